package router_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

type ctxKey struct{}

// recordingHook records the lifecycle events it sees, in order.
type recordingHook struct {
	mu     sync.Mutex
	events []string
	closed chan string // session ids, as they close
	onOpen func(s *router.Session)
}

func (h *recordingHook) SessionOpened(s *router.Session) {
	h.mu.Lock()
	h.events = append(h.events, "open "+s.ID())
	h.mu.Unlock()
	if h.onOpen != nil {
		h.onOpen(s)
	}
}

func (h *recordingHook) SessionClosed(s *router.Session) {
	h.mu.Lock()
	h.events = append(h.events, "close "+s.ID())
	h.mu.Unlock()
	h.closed <- s.ID()
}

func (h *recordingHook) snapshot() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...)
}

func TestSessionHooks(t *testing.T) {
	h1 := &recordingHook{closed: make(chan string, 4)}
	h2 := &recordingHook{closed: make(chan string, 4)}
	_, url := startServer(t, router.Options{SessionHooks: []router.SessionHook{h1, h2}})

	a := dial(t, url)
	b := dial(t, url)
	// SessionOpened runs after WELCOME is queued, so the two sessions'
	// opens may be seen in either order; but it runs before the session's
	// first message is handled: a call answered proves it already happened.
	a.call(`[2,"1","urn:none"]`)
	b.call(`[2,"1","urn:none"]`)
	for _, h := range []*recordingHook{h1, h2} {
		got := h.snapshot()
		if len(got) != 2 || !((got[0] == "open "+a.SessionID && got[1] == "open "+b.SessionID) ||
			(got[0] == "open "+b.SessionID && got[1] == "open "+a.SessionID)) {
			t.Fatalf("events before any close %v, want the opens of %s and %s", got, a.SessionID, b.SessionID)
		}
	}
	a.Conn.Close() // peer gone: abort path
	if id := <-h1.closed; id != a.SessionID {
		t.Fatalf("closed %s, want %s", id, a.SessionID)
	}
	<-h2.closed
	b.Send(`[2,"x"`) // protocol violation: close handshake path
	b.ExpectClose(ws.StatusInvalidFramePayloadData, "invalid JSON")
	if id := <-h1.closed; id != b.SessionID {
		t.Fatalf("closed %s, want %s", id, b.SessionID)
	}
	<-h2.closed

	for _, h := range []*recordingHook{h1, h2} {
		got := h.snapshot()
		want := []string{"close " + a.SessionID, "close " + b.SessionID}
		if len(got) != 4 || got[2] != want[0] || got[3] != want[1] {
			t.Fatalf("events %v, want two opens then %v", got, want)
		}
	}
}

func TestSessionHookClosesOnOpen(t *testing.T) {
	h := &recordingHook{closed: make(chan string, 1)}
	h.onOpen = func(s *router.Session) { s.Close(protocol.ClosePolicyViolation, "not today") }
	_, url := startServer(t, router.Options{SessionHooks: []router.SessionHook{h}})
	c := dial(t, url)
	c.ExpectClose(ws.StatusPolicyViolation, "not today")
	if id := <-h.closed; id != c.SessionID {
		t.Fatalf("closed %s, want %s", id, c.SessionID)
	}
	if got := h.snapshot(); len(got) != 2 || got[0] != "open "+c.SessionID || got[1] != "close "+c.SessionID {
		t.Fatalf("events %v", got)
	}
}

func TestRequestValuesReachTheSession(t *testing.T) {
	_, url := startServer(t, router.Options{
		Filters: []router.HandshakeFilter{
			router.HandshakeFilterFunc(func(r *router.Request) error {
				if r.Value(ctxKey{}) != nil {
					return errors.New("a fresh request has no values")
				}
				r.SetValue(ctxKey{}, r.URL.Query().Get("who"))
				return nil
			}),
		},
		RPC: router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			return s.Value(ctxKey{}), nil
		}),
	})
	for _, who := range []string{"alice", "bob"} {
		c := dial(t, url+"?who="+who)
		if r := c.call(`[2,"1","urn:who"]`); r[0] != float64(3) || r[2] != who {
			t.Fatalf("session value %v, want %s", r, who)
		}
	}
}

func TestDeferredReply(t *testing.T) {
	release := make(chan struct{})
	replies := make(chan *router.Reply, 1)
	_, url := startServer(t, router.Options{
		Workers: 1, // a deferred call must not hold the only worker
		RPC: router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			switch c.URI {
			case "urn:later":
				r := c.Defer()
				go func() {
					<-release
					r.Send("late", nil)
					if r.Send("twice", nil) {
						t.Error("a second Send answered")
					}
				}()
				return "ignored", nil
			case "urn:later-error":
				r := c.Defer()
				replies <- r
				return nil, nil
			case "urn:defer-then-panic":
				c.Defer()
				panic("boom")
			}
			return "now", nil
		}),
	})
	c := dial(t, url)
	c.Send(`[2,"a","urn:later"]`)
	// The only worker is free: this call is answered first.
	if r := c.call(`[2,"b","urn:now"]`); r[1] != "b" || r[2] != "now" {
		t.Fatalf("got %v", r)
	}
	close(release)
	var r []any
	c.RecvJSON(&r)
	if r[0] != float64(3) || r[1] != "a" || r[2] != "late" {
		t.Fatalf("deferred answer %v", r)
	}

	c.Send(`[2,"c","urn:later-error"]`)
	(<-replies).Send(nil, &protocol.Error{URI: "urn:err", Desc: "later"})
	c.RecvJSON(&r)
	if r[0] != float64(4) || r[1] != "c" || r[2] != "urn:err" || r[3] != "later" {
		t.Fatalf("deferred error %v", r)
	}

	r = c.call(`[2,"d","urn:defer-then-panic"]`)
	if r[0] != float64(4) || r[1] != "d" || r[2] != protocol.ErrorURIInternal {
		t.Fatalf("panic after Defer answered %v", r)
	}
	c.ExpectNothing(50 * time.Millisecond)
}

func TestDeferOutsideTheRouter(t *testing.T) {
	c := &router.Call{URI: "urn:x"}
	if c.Defer().Send("x", nil) {
		t.Fatal("Send of a Call the router did not dispatch answered")
	}
}
