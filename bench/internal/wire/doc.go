// Package wire is what the load generator knows of the two protocols it
// speaks: WAMP v1 to tagwamp (docs/protocol.md#messages) and centrifuge's
// JSON protocol to the peer. It builds client frames (masked, RFC 6455
// §5.3) into caller-owned buffers and classifies server messages by looking
// at their first bytes only, so that reading an EVENT costs next to nothing
// (this package's benchmarks): the generator must stay much cheaper than
// the server it measures.
//
//	p := wire.For(wire.Tagwamp)
//	frame := p.AppendPublish(nil, mask, wire.GroupTopic(p, 3), payload, true)
//	kind, body := p.Classify(msg)
//
// Nothing here is safe for concurrent use on one buffer; the byte slices
// Classify and Split return alias their input and live as long as it does.
package wire
