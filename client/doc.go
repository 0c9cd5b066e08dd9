// Package client is a WAMP v1 client for Go backends: it calls procedures,
// publishes to topics (tag topics included, see Topic) and subscribes to
// them over one WebSocket connection to a WAMP v1 router such as tagwamp
// (docs/protocol.md).
//
// # Usage
//
//	c, err := client.Dial(ctx, "ws://localhost:8080/",
//		client.WithHeader(http.Header{"Origin": {"https://example.com"}}))
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//
//	var sum int
//	if err := c.Call(ctx, "http://example.com/calc#add", &sum, 1, 2); err != nil {
//		var werr *protocol.Error
//		if errors.As(err, &werr) {
//			// the procedure answered with a CALLERROR: werr.URI, werr.Desc, werr.Details
//		}
//		return err
//	}
//
//	c.Prefix("news", "http://example.com/news#")
//	c.Subscribe("news:sports", func(topic string, event json.RawMessage) {
//		// topic is "http://example.com/news#sports", as the server sends it
//	})
//
//	// Reaches the subscribers of news?lang=FR, news?lang=FR&user=42, ...
//	c.Publish(client.Topic("http://example.com/news", map[string]string{"lang": "FR"}),
//		map[string]string{"title": "Bonjour"})
//
// Code that only publishes should take a Publisher, which *Client satisfies
// and clienttest.Publisher fakes in tests.
//
// # Concurrency
//
// A Client is safe for concurrent use by any number of goroutines. Each
// client runs one goroutine of its own, the reader, from Dial until the
// connection ends; it answers pings, matches CALLRESULT and CALLERROR to the
// waiting calls, and runs the event handlers, one at a time, in arrival
// order. A handler that blocks stops the reader: no reply, event or ping is
// read meanwhile. A handler may Publish, Subscribe, Unsubscribe and Close,
// and may start a Call on another goroutine, but must not wait for a Call.
//
// Writes are serialized: each message goes out as one masked text frame,
// whole, in the order the writers got the write lock.
//
// Locks, in the order they may be taken: smu (Prefix, Subscribe, Unsubscribe:
// from the CURIE resolution to the write), then wmu (the socket's write
// side), then mu (pending calls, subscriptions, cause). The reader takes wmu
// and mu, never smu, and holds none while a handler runs.
//
// # Bytes
//
// Nothing passed to the client is retained after the method returns; the
// json.RawMessage given to an event handler is a copy it may keep.
//
// # End of the connection
//
// Done is closed when the connection ends and Err then says why. From then
// on, and as soon as Close is called, every method returns an error wrapping
// ErrClosed; calls still waiting fail with it too.
package client
