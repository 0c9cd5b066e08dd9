package router_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/router"
)

// TestWriteDeadlineDoesNotOutliveTheWrite: a write made by a flusher
// goroutine (the WELCOME is one) sets a deadline of WriteTimeout; once that
// deadline has passed, the workers' later non-blocking writes to the same
// connection still go out, and nobody is taken for a slow consumer.
func TestWriteDeadlineDoesNotOutliveTheWrite(t *testing.T) {
	const timeout = 20 * time.Millisecond
	srv, url := startServer(t, router.Options{WriteTimeout: timeout})
	sub := dial(t, url)
	sub.send(`[5,"http://x.com/t?g=1"]`)
	syncSession(t, sub)
	pub := dial(t, url)
	time.Sleep(5 * timeout) // every deadline set so far has passed
	pub.send(`[7,"http://x.com/t?g=1",{"n":1}]`)
	if m := sub.recv(); m != `[8,"http://x.com/t?g=1",{"n":1}]` {
		t.Fatalf("subscriber got %s", m)
	}
	syncSession(t, pub) // its CALLERROR is a worker's write too
	if n, err := srv.Publish("http://x.com/t?g=1", []byte(`2`)); n != 1 || err != nil {
		t.Fatalf("Publish = %d, %v", n, err)
	}
	if m := sub.recv(); m != `[8,"http://x.com/t?g=1",2]` {
		t.Fatalf("subscriber got %s", m)
	}
	if st := srv.Stats(); st.SlowConsumers != 0 {
		t.Fatalf("SlowConsumers = %d", st.SlowConsumers)
	}
}

// TestDeliveriesDoNotWaitForAHandler: a PUBLISH and a CALL arrive in one
// read batch; the EVENT reaches its subscriber while the RPC handler of the
// CALL is still running, and the CALLRESULT follows when it returns.
func TestDeliveriesDoNotWaitForAHandler(t *testing.T) {
	release := make(chan struct{})
	rpc := router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		if c.URI != "http://x.com/slow" {
			return nil, router.ErrNoSuchProcedure
		}
		select {
		case <-release:
			return "done", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	_, url := startServer(t, router.Options{RPC: rpc})
	sub := dial(t, url)
	sub.send(`[5,"http://x.com/t?g=1"]`)
	pub := dial(t, url)
	syncSession(t, sub)
	var batch bytes.Buffer
	for _, m := range []string{`[7,"http://x.com/t?g=1",1]`, `[2,"c1","http://x.com/slow"]`} {
		if err := ws.WriteFrame(&batch, ws.MaskFrameInPlace(ws.NewTextFrame([]byte(m)))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pub.Conn.Write(batch.Bytes()); err != nil { // one write: one read batch
		t.Fatal(err)
	}
	m, err := sub.next(10 * time.Second) // a failure guard; the handler runs for 30s
	close(release)
	if err != nil || m != `[8,"http://x.com/t?g=1",1]` {
		t.Fatalf("subscriber got %q, %v while the handler ran", m, err)
	}
	if m := pub.recv(); m != `[3,"c1","done"]` {
		t.Fatalf("caller got %s", m)
	}
}
