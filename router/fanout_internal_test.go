package router

import (
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/tagwamp/tagwamp/tagindex"
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

// TestEventEncodedOncePerTopicString checks docs/protocol.md#encode-once:
// one publication encodes its EVENT once per distinct topic string, and
// every receiver of that string is written the very same bytes.
func TestEventEncodedOncePerTopicString(t *testing.T) {
	srv := New(Options{})
	topics := []string{"http://x.com/t?a=1&b=2", "http://x.com/t?b=2&a=1"}
	var conns []*recordConn
	for i := range 10 {
		rc := &recordConn{}
		s := attachSession(srv, fmt.Sprint(i), rc)
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
	f.pend.Flush()
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

// TestPlainEncodedOnce checks docs/protocol.md#encode-once: one publication
// encodes the bare event once for all its plain receivers, whose frame is
// never confused with the EVENT of a WAMP topic string (even "", the
// topic string a plain subscription does not have).
func TestPlainEncodedOnce(t *testing.T) {
	srv := New(Options{})
	var conns []*recordConn
	var plain []bool
	for i := range 9 {
		rc := &recordConn{}
		s := attachSession(srv, fmt.Sprint(i), rc)
		switch i % 3 {
		case 0:
			benchSubscribe(t, srv, s, "?a=1")
		case 1:
			benchSubscribe(t, srv, s, "")
		default:
			s.plain = true
			tags, err := tagindex.ParseJSON([]byte(`{"a":1}`))
			if err != nil {
				t.Fatal(err)
			}
			srv.subscribePlain(s, tags)
		}
		conns = append(conns, rc)
		plain = append(plain, s.plain)
	}
	f := srv.fans.Get().(*fanout)
	f.set.Reset()
	if err := f.set.ParseTopic([]byte("?a=1")); err != nil {
		t.Fatal(err)
	}
	f.pub = Publication{Tags: f.set, Event: []byte(`{"n":1}`)}
	if n := srv.deliver(f, &f.pend, nil, nil); n != 6 {
		t.Fatalf("delivered to %d, want 6", n)
	}
	f.pend.Flush()
	deadline := time.Now().Add(5 * time.Second)
	var plainPtr, eventPtr *byte
	for i, rc := range conns {
		for {
			rc.mu.Lock()
			n := len(rc.frames)
			rc.mu.Unlock()
			if n == 1 || i%3 == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("session %d got %d frames", i, n)
			}
			time.Sleep(time.Millisecond)
		}
		switch {
		case i%3 == 1:
			if len(rc.frames) != 0 {
				t.Fatalf("subscriber of %q got %q", "", rc.frames)
			}
		case plain[i]:
			if got := rc.frames[0][2:]; got != `{"n":1}` {
				t.Fatalf("plain session %d got %s", i, got)
			}
			if plainPtr != nil && plainPtr != rc.ptrs[0] {
				t.Fatalf("plain session %d was written a second encoding", i)
			}
			plainPtr = rc.ptrs[0]
		default:
			if got := rc.frames[0][2:]; got != `[8,"?a=1",{"n":1}]` {
				t.Fatalf("session %d got %s", i, got)
			}
			eventPtr = rc.ptrs[0]
		}
	}
	if plainPtr == nil || plainPtr == eventPtr {
		t.Fatal("plain receivers shared the EVENT's encoding")
	}
}
