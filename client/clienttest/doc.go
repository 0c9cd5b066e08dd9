// Package clienttest provides test doubles for code that uses package
// client, as Gomoob's WebSocketClientMock does for PHP users of its
// WebSocket server.
//
// Code that publishes takes a client.Publisher; in production it is a
// *client.Client, in tests a *clienttest.Publisher, which records every
// publication instead of sending it, so the test can look them up by tags:
//
//	pub := &clienttest.Publisher{}
//	svc := NewService(pub) // the code under test
//	svc.Run()
//	got := pub.FindByTags(map[string]string{"language": "FR"})
//	if len(got) != 2 { t.Errorf(...) }
//
// # Concurrency
//
// A Publisher is safe for concurrent use: the code under test may publish
// from many goroutines while the test reads the records. The zero value is
// ready to use and no state is shared between Publishers.
//
// # Bytes
//
// A Publication owns its memory: the event is marshaled (or, for a
// json.RawMessage, copied) when Publish is called, and the lookups return
// copies of the records' slice, so the code under test may reuse its buffers
// and the test may keep the results.
package clienttest
