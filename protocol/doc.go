// Package protocol is the WAMP v1 wire format of tagwamp: the closed set of
// message types, a zero-allocation decoder, append-style encoders, the
// per-session CURIE map, and the errors that carry protocol meaning. The
// rules it implements are those of docs/protocol.md (transport, messages,
// errors); it imports nothing else of the module.
//
// # Decoding
//
// A Decoder turns one whole text frame (docs/protocol.md#transport) into a
// Message, whose Type says which of its per-message fields is set:
//
//	var d protocol.Decoder
//	var m protocol.Message
//	if err := d.Decode(frame, &m); err != nil {
//		// close with protocol.CloseCodeOf(err) and protocol.Reason(err) (docs/protocol.md#close-codes)
//	}
//	switch m.Type {
//	case protocol.TypeCall:
//		uri := prefixes.Resolve(buf[:0], m.Call.ProcURI)
//		// ... run the procedure with m.Call.Args, then answer:
//		out = protocol.AppendCallResult(out[:0], m.Call.CallID, result)
//	case protocol.TypeSubscribe:
//		// copy m.Subscribe.TopicURI to keep it
//	}
//
// A plain tag connection's frame, a JSON object rather than a message, is
// decoded with the same scanner by DecodePlain into a PlainRequest
// (docs/protocol.md#plain-requests):
//
//	var r protocol.PlainRequest
//	if err := d.DecodePlain(frame, &r); err != nil {
//		// close with protocol.CloseCodeOf(err): 1007, 1002 or 1009
//	}
//	// r.Message, r.Tags (parse with tagindex.ParseJSON), r.Metadata
//
// The frame must be strictly valid JSON (RFC 8259, UTF-8) and a well-formed
// message (docs/protocol.md#messages); anything else is an error wrapping one
// sentinel of errors.go, mapped to a WebSocket close code by CloseCodeOf
// (docs/protocol.md#close-codes). The decoder validates the frame with a
// hand-written scanner and keeps subslices of it: raw JSON for args, results,
// events and error details; unescaped contents for URIs and ids; the raw
// token for callIds, which are echoed byte for byte
// (docs/protocol.md#call-ids).
//
// # Limits
//
// No client chooses the cost of its messages (docs/protocol.md#limits).
// Decoder.Limits and Prefixes.MaxURILen, whose zero values hold the
// defaults, bound the JSON values of one message (4096, nested ones included: the
// scanner stops at the first value over, ErrTooManyElements, close 1009),
// the session ids of each PUBLISH list (4096, ErrTooManyIDs, 1002), and the
// length of a PREFIX URI and of every URI once its CURIE is resolved (4096
// bytes, ErrURITooLong, 1002; see Prefixes.ResolveLimit). Nesting is
// bounded by MaxDepth, and the scanner does not recurse. A Decoder drops
// the buffers that one big message grew at the next Decode.
//
// # Encoding
//
// The Append functions, in the style of strconv.Append*, append one message
// to a buffer: AppendEvent(dst, topic, event) and its siblings. A router
// serializes an EVENT once per distinct topic string and writes the same
// bytes to all its receivers (docs/protocol.md#encode-once).
//
// # JSON
//
// goccy/go-json enters the module through this package only: MarshalPayload
// encodes application values as payloads (a json.RawMessage passes through,
// checked), Unmarshal decodes them, and Valid checks raw JSON with the
// decoder's own scanner, so that what one package sends another accepts.
//
// # Borrowed bytes
//
// Every byte slice of a decoded Message is borrowed: it aliases the frame
// passed to Decode or the Decoder's scratch buffer, and is valid until the
// next Decode call on that Decoder (and while the frame is unchanged).
// Whoever keeps one (a topic at subscribe time) copies it once, where it is
// kept; Prefixes.Set copies what it keeps. Borrowed slices are
// capacity-limited, so appending to one never writes into the frame.
//
// # Concurrency
//
// Decoder, Message and Prefixes are not safe for concurrent use: give each
// worker its own Decoder and Message, and each session its own Prefixes.
// Their zero values are ready to use. The Append functions and the other
// package functions are safe to call from any goroutine. The package holds
// no mutable global state.
//
// # Allocations
//
// Decoding CALL and PUBLISH frames and plain requests, and encoding EVENT
// frames, allocate nothing once the buffers have grown to their working
// size; the tests assert it with testing.AllocsPerRun. Only errors allocate.
package protocol
