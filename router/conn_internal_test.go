package router

import (
	"net"
	"testing"
	"time"
)

// timeoutConn fails every write with a timeout, like a peer that has taken
// nothing for WriteTimeout.
type timeoutConn struct{ discardConn }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func (timeoutConn) Write([]byte) (int, error) { return 0, timeoutErr{} }

var _ net.Error = timeoutErr{}

// testConn is a connection that is already closing, so closing it does
// not touch a poller.
func testConn(srv *Server, nc net.Conn) *conn {
	c := &conn{srv: srv, nc: nc, state: stateClosing}
	c.flushFn = c.flush
	c.sess = &Session{id: "s", c: c}
	return c
}

func TestWriteTimeoutIsOneSlowConsumer(t *testing.T) {
	srv := New(Options{MaxQueueBytes: 64})
	c := testConn(srv, timeoutConn{})
	if !c.write([]byte("first frame")) {
		t.Fatal("first write refused")
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().SlowConsumers != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("SlowConsumers = %d after a write timeout", srv.Stats().SlowConsumers)
		}
		time.Sleep(time.Millisecond)
	}
	// The same session passing its queue bound is not counted again.
	c.markSlow("send queue over its limit")
	if got := srv.Stats().SlowConsumers; got != 1 {
		t.Fatalf("SlowConsumers = %d, want 1", got)
	}
	if c.write([]byte("after")) {
		t.Fatal("a closed connection took a frame")
	}
}

// TestReadNotificationWhileReading: a second notification for a connection
// that a worker is serving does nothing (the serving worker re-arms).
func TestReadNotificationWhileReading(t *testing.T) {
	srv := New(Options{})
	c := &conn{srv: srv} // no socket: any read would panic
	c.reading.Store(true)
	c.onReadable(newWorker())
	if !c.reading.Load() || c.rbuf != nil {
		t.Fatal("a duplicate notification touched the read state")
	}
}
