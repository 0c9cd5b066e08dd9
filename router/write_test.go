package router_test

import (
	"testing"
	"time"

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
