// Package wstest is a raw WebSocket client for tagwamp's tests: it sends
// exactly the bytes a test gives (text messages, or any frame, masked as a
// client must) and reports exactly what arrives, close frames included
// (code and reason), so that tests can check the router's answers to the
// letter (docs/protocol.md#messages).
//
// Only _test.go files import it (scripts/lint.sh checks this).
//
//	c := wstest.Dial(t, url, wstest.Options{})   // offers "wamp", reads WELCOME
//	c.Send(`[5,"http://x.com/t"]`)
//	m := c.Recv()                                // the next message, or t.Fatal
//	c.SendFrame(ws.NewPingFrame(nil))
//	c.ExpectClose(1002, "")                      // a close frame with that code
//
// Methods named after what they do to the test (Send, Recv, RecvJSON,
// ExpectClose, ExpectNothing, SendFrame) fail it with c.T and must be
// called from the test's goroutine. Their error-returning twins (Open,
// ReadWelcome, SendText, WriteFrame, Next, CheckClose) touch no testing.TB
// and may run on any goroutine; one goroutine reads a Client at a time.
package wstest
