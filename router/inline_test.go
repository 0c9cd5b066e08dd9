package router_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// inlineRPC answers the procedures of the inline tests: those under
// http://x.com/inline/ are inline (router.InlineHandler), the others leave
// the worker pool while they run. slow blocks until release is closed,
// counting its starts in started.
type inlineRPC struct {
	release chan struct{}
	started *sync.WaitGroup
}

func (h inlineRPC) Inline(c *router.Call) bool {
	return strings.HasPrefix(c.URI, "http://x.com/inline/")
}

func (h inlineRPC) ServeCall(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
	switch c.URI {
	case "http://x.com/inline/echo", "http://x.com/pooled/echo":
		if len(c.Args) == 0 {
			return nil, nil
		}
		return json.RawMessage(append([]byte(nil), c.Args[0]...)), nil
	case "http://x.com/inline/panic":
		panic("inline handler bug")
	case "http://x.com/slow":
		h.started.Done()
		select {
		case <-h.release:
		case <-ctx.Done():
		}
		return "slow", nil
	}
	return nil, router.ErrNoSuchProcedure
}

// TestInlineCallsPipelined: sessions that pipeline calls, inline and not
// mixed, in one write each, get every answer in the order of their calls
// (docs/protocol.md#ordering), with several sessions read at once.
func TestInlineCallsPipelined(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sessions int
		calls    int
		uris     []string
	}{
		{"inline", 1, 100, []string{"http://x.com/inline/echo"}},
		{"mixed", 1, 100, []string{"http://x.com/inline/echo", "http://x.com/pooled/echo"}},
		{"mixed/sessions=8", 8, 200, []string{"http://x.com/inline/echo", "http://x.com/pooled/echo", "http://x.com/inline/echo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, url := startServer(t, router.Options{RPC: inlineRPC{}})
			cs := make([]*wsClient, tc.sessions)
			for i := range cs {
				cs[i] = dial(t, url)
			}
			var wg sync.WaitGroup
			errs := make(chan error, tc.sessions)
			for si, c := range cs {
				var run []byte
				for i := range tc.calls {
					run = appendMasked(run, fmt.Sprintf(`[2,"c%d",%q,%d]`, i, tc.uris[i%len(tc.uris)], si*1000+i))
				}
				wg.Go(func() {
					if _, err := c.Conn.Write(run); err != nil {
						errs <- err
						return
					}
					for i := range tc.calls {
						m, err := c.Next(30 * time.Second) // a failure guard
						if err != nil {
							errs <- fmt.Errorf("session %d, answer %d: %w", si, i, err)
							return
						}
						if want := fmt.Sprintf(`[3,"c%d",%d]`, i, si*1000+i); m != want {
							errs <- fmt.Errorf("session %d: answer %d is %s, want %s", si, i, m, want)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestInlineHandlerPanics: an inline handler that panics is answered
// internal, like any handler, and its session goes on.
func TestInlineHandlerPanics(t *testing.T) {
	_, url := startServer(t, router.Options{RPC: inlineRPC{}})
	c := dial(t, url)
	c.Send(`[2,"p","http://x.com/inline/panic"]`)
	c.Send(`[2,"e","http://x.com/inline/echo",7]`)
	var r []any
	c.RecvJSON(&r)
	if len(r) < 3 || r[0] != float64(4) || r[1] != "p" || r[2] != "http://api.wamp.ws/error#internal" {
		t.Fatalf("panicking inline call answered %v", r)
	}
	if m := c.Recv(); m != `[3,"e",7]` {
		t.Fatalf("the next call answered %s", m)
	}
}

// TestInlineBesideSlowHandlers: handlers that are not inline and block do
// not stop the reading of other sessions, even with one worker: their
// inline and pooled calls are answered and their publications delivered
// while the slow calls run; a slow call's session keeps its order (its
// inline call is answered after the slow one).
func TestInlineBesideSlowHandlers(t *testing.T) {
	h := inlineRPC{release: make(chan struct{}), started: new(sync.WaitGroup)}
	released := false
	release := func() {
		if !released {
			released = true
			close(h.release)
		}
	}
	_, url := startServer(t, router.Options{RPC: h, Workers: 1, MaxRunningCalls: 16})
	defer release()
	slow := make([]*wsClient, 6)
	h.started.Add(len(slow))
	for i := range slow {
		slow[i] = dial(t, url)
		slow[i].Send(`[2,"s","http://x.com/slow"]`)
		slow[i].Send(fmt.Sprintf(`[2,"i","http://x.com/inline/echo",%d]`, i))
	}
	done := make(chan struct{})
	go func() { h.started.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a failure guard
		t.Fatal("the slow calls did not all start: reading stopped behind one")
	}

	sub, other := dial(t, url), dial(t, url)
	subscribe(t, sub, "http://x.com/t")
	for i := range 20 {
		if r := other.call(fmt.Sprintf(`[2,"o","http://x.com/inline/echo",%d]`, i)); r[2] != float64(i) {
			t.Fatalf("inline call beside slow ones answered %v", r)
		}
		if r := other.call(fmt.Sprintf(`[2,"o","http://x.com/pooled/echo",%d]`, i)); r[2] != float64(i) {
			t.Fatalf("pooled call beside slow ones answered %v", r)
		}
	}
	other.Send(`[7,"http://x.com/t","event"]`)
	if m := sub.Recv(); m != `[8,"http://x.com/t","event"]` {
		t.Fatalf("subscriber got %s", m)
	}

	release()
	for i, c := range slow {
		if m := c.Recv(); m != `[3,"s","slow"]` {
			t.Fatalf("slow session %d: first answer %s", i, m)
		}
		if m, want := c.Recv(), fmt.Sprintf(`[3,"i",%d]`, i); m != want {
			t.Fatalf("slow session %d: second answer %s, want %s", i, m, want)
		}
	}
}
