package router

import (
	"errors"
	"sync"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// Broker carries publications between the servers of a cluster
// (Options.Broker). The server calls it; package cluster implements it
// over NATS.
//
// A publication with tag set P reaches the subscriptions whose set S holds
// P (docs/protocol.md#tag-matching), so a node can only be concerned by a
// publication if its subscriptions hold every tag of P: Interest tells the
// broker which tags they hold, so that it can route each publication to
// the nodes that hold (one of) its tags and to no other.
//
// Both methods are called on the server's hot paths and must not block:
// a broker queues what it has to send and does it on goroutines of its
// own. Neither may call back into the server.
type Broker interface {
	// Interest is called with on true when the first local subscription
	// holding tag enters the index and with false when the last one
	// leaves it. The zero Tag (AnyTag) stands for any subscription at
	// all: it is on while the server holds at least one, which is what
	// a publication with the empty tag set reaches. Calls are serialized
	// by the server and come in the order of the changes they report.
	Interest(tag tagindex.Tag, on bool)
	// Publish is handed every publication delivered locally (a PUBLISH,
	// a plain request, Server.Publish, PublishWith and PublishBatch),
	// after its local delivery, on the goroutine that delivered it. p and
	// everything it points to are borrowed until Publish returns: a
	// broker copies what it keeps. One publisher's publications are
	// handed over in publication order.
	Publish(p *BrokerPublication)
}

// AnyTag is the Tag that Broker.Interest reports for any subscription
// at all. No tag of a set equals it: the base is never empty there.
var AnyTag tagindex.Tag

// BrokerPublication is one publication as it travels between the nodes
// of a cluster: what Broker.Publish is given and DeliverRemote takes.
type BrokerPublication struct {
	// Tags is the publication's tag set P, the base included.
	Tags tagindex.Set
	// Event is the published payload, raw JSON.
	Event []byte
	// Publisher is the session id of the publisher
	// (docs/protocol.md#welcome), "" for a server-side publication
	// (Server.Publish, PublishWith). Session ids are 128 random bits, so
	// they are unique across the cluster.
	Publisher string
	// ExcludePublisher leaves the publisher out of the receivers: a
	// PUBLISH with excludeMe, or without element 3 unless
	// DeliverToPublisher (docs/protocol.md#publish-options).
	ExcludePublisher bool
	// Exclude lists session ids that do not receive it; nil or empty
	// excludes nobody.
	Exclude [][]byte
	// Eligible, when HasEligible, lists the only session ids that may
	// receive it (minus Exclude); an empty list then reaches nobody.
	Eligible    [][]byte
	HasEligible bool
}

// ErrBrokerDisconnected is Ready's answer while a broker that reports
// its connection (Connected() bool) is not connected.
var ErrBrokerDisconnected = errors.New("router: broker disconnected")

// brokerConnected reports whether the broker, when it says, is connected.
func (srv *Server) brokerConnected() bool {
	c, ok := srv.opts.Broker.(interface{ Connected() bool })
	return !ok || c.Connected()
}

// interest counts, per tag, the local subscriptions holding it, and tells
// the broker when a count leaves or reaches zero. Its lock is taken under
// Session.mu; under it, only the index's read lock and the broker's
// Interest, which must not block, are taken.
type interest struct {
	mu   sync.Mutex
	n    map[tagindex.Tag]int
	subs int // all subscriptions, for AnyTag
	tags []tagindex.Tag
}

// interestAdd reports the tags of the set named by h as held by one more
// subscription. The caller holds the subscribing session's mu, so that a
// subscription's removal is never counted before its addition.
func (srv *Server) interestAdd(h tagindex.Handle) {
	srv.interestChange(h, 1)
}

// interestRemove reports the tags of the set named by h as held by one
// subscription fewer. Call it before the entry leaves the index (the
// Handle names its set only until then).
func (srv *Server) interestRemove(h tagindex.Handle) {
	srv.interestChange(h, -1)
}

func (srv *Server) interestChange(h tagindex.Handle, d int) {
	b := srv.opts.Broker
	in := &srv.interest
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.n == nil {
		in.n = make(map[tagindex.Tag]int)
	}
	in.tags = srv.index.AppendTags(in.tags[:0], h)
	for _, t := range in.tags {
		c := in.n[t] + d
		switch {
		case c == 0:
			delete(in.n, t)
			b.Interest(t, false)
		case c == 1 && d > 0:
			in.n[t] = c
			b.Interest(t, true)
		default:
			in.n[t] = c
		}
	}
	clear(in.tags)
	in.subs += d
	switch {
	case in.subs == 1 && d > 0:
		b.Interest(AnyTag, true)
	case in.subs == 0:
		b.Interest(AnyTag, false)
	}
}

// forward hands the broker a copy of a publication just delivered
// locally: f.pub, with m's options (nil: none), by from (nil: the server).
func (srv *Server) forward(f *fanout, from *Session, m *protocol.Publish) {
	p := BrokerPublication{Tags: f.pub.Tags, Event: f.pub.Event}
	if from != nil {
		p.Publisher = from.id
	}
	if m != nil {
		if m.HasEligible && len(m.Eligible) == 0 {
			return // reaches nobody, anywhere (docs/protocol.md#publish-options)
		}
		switch m.Exclude {
		case protocol.ExcludeDefault:
			p.ExcludePublisher = from != nil && !srv.opts.DeliverToPublisher
		case protocol.ExcludeMe:
			p.ExcludePublisher = from != nil
		case protocol.ExcludeList:
			p.Exclude = m.ExcludeIDs
		}
		p.Eligible, p.HasEligible = m.Eligible, m.HasEligible
	}
	srv.opts.Broker.Publish(&p)
}

// DeliverRemote delivers a publication that another node of the cluster
// published, as its broker received it, to the local subscriptions only:
// each one whose tag set holds p.Tags, with the PUBLISH options p carries
// (docs/protocol.md#publish-options), its EVENT carrying the subscriber's
// own topic string and encoded once per distinct string, plain receivers
// getting the bare event (docs/protocol.md#encode-once). It never hands p
// to the broker again. It returns the number of EVENTs queued, and an
// error, delivering nothing, when p.Event is not valid JSON.
//
// It writes as Publish does, on the caller's goroutine, never waiting for
// a slow receiver. A broker calls it from one goroutine, in arrival order,
// so that one publisher's publications keep their order
// (docs/protocol.md#ordering). p is borrowed until it returns.
func (srv *Server) DeliverRemote(p *BrokerPublication) (int, error) {
	if !protocol.Valid(p.Event) {
		return 0, errors.New("router: deliver remote: event is not valid JSON")
	}
	var m protocol.Publish
	m.Exclude = protocol.ExcludeList
	m.ExcludeIDs = p.Exclude
	if p.ExcludePublisher && p.Publisher != "" {
		m.ExcludeIDs = append(p.Exclude[:len(p.Exclude):len(p.Exclude)], idBytes([]string{p.Publisher})[0])
	}
	m.Eligible, m.HasEligible = p.Eligible, p.HasEligible
	f := srv.fans.Get().(*fanout)
	defer srv.fans.Put(f)
	f.pub = Publication{Tags: p.Tags, Event: p.Event}
	n := srv.deliver(f, &f.pend, nil, &m)
	f.pub = Publication{}
	f.pend.Flush()
	return n, nil
}
