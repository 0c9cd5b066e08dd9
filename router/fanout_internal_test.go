package router

import (
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// recordConn records the address and bytes of every write.
type recordConn struct {
	discardConn
	mu     sync.Mutex
	ptrs   []*byte
	frames []string
}

func (r *recordConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ptrs = append(r.ptrs, unsafe.SliceData(p))
	r.frames = append(r.frames, string(p))
	return len(p), nil
}

// TestEventEncodedOncePerTopicString checks wamp1.md §4: one publication
// encodes its EVENT once per distinct topic string, and every receiver of
// that string is written the very same bytes.
func TestEventEncodedOncePerTopicString(t *testing.T) {
	srv := New(Options{})
	topics := []string{"http://x.com/t?a=1&b=2", "http://x.com/t?b=2&a=1"}
	var conns []*recordConn
	for i := range 10 {
		rc := &recordConn{}
		c := &conn{srv: srv, nc: rc}
		c.flushFn = c.flush
		s := &Session{id: fmt.Sprint(i), c: c}
		c.sess = s
		benchSubscribe(t, srv, s, topics[i%2])
		conns = append(conns, rc)
	}
	f := srv.fans.Get().(*fanout)
	if err := f.set.ParseTopic([]byte("http://x.com/t?a=1")); err != nil {
		t.Fatal(err)
	}
	f.pub = Publication{Topic: "http://x.com/t?a=1", Tags: f.set, Event: []byte(`{"n":1}`)}
	if n := srv.deliver(f, &f.pend, nil, nil); n != 10 {
		t.Fatalf("delivered to %d", n)
	}
	f.pend.flush()
	deadline := time.Now().Add(5 * time.Second)
	ptrs := map[string]*byte{}
	for i, rc := range conns {
		for {
			rc.mu.Lock()
			n := len(rc.frames)
			rc.mu.Unlock()
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("session %d got %d frames", i, n)
			}
			time.Sleep(time.Millisecond)
		}
		want := fmt.Sprintf(`[8,%q,{"n":1}]`, topics[i%2])
		if got := rc.frames[0][2:]; got != want {
			t.Fatalf("session %d got %s, want %s", i, got, want)
		}
		if p, ok := ptrs[topics[i%2]]; ok && p != rc.ptrs[0] {
			t.Fatalf("session %d was written a second encoding of %s", i, topics[i%2])
		}
		ptrs[topics[i%2]] = rc.ptrs[0]
	}
	if ptrs[topics[0]] == ptrs[topics[1]] {
		t.Fatal("two topic strings shared one encoding")
	}
}
