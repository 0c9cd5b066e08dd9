package router_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/router"
)

// observer is a router.Observer that counts what it is told.
type observer struct {
	mu     sync.Mutex
	calls  map[router.CallOutcome]int
	delays int
	neg    bool // a negative duration was observed
}

func newObserver() *observer { return &observer{calls: make(map[router.CallOutcome]int)} }

func (o *observer) ObserveCall(oc router.CallOutcome, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls[oc]++
	o.neg = o.neg || d < 0
}

func (o *observer) ObserveQueueDelay(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delays++
	o.neg = o.neg || d < 0
}

func (o *observer) snapshot() (map[router.CallOutcome]int, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := make(map[router.CallOutcome]int, len(o.calls))
	for k, v := range o.calls {
		m[k] = v
	}
	return m, o.delays
}

// TestObserver: over real sockets, each CALL whose handler runs (and each
// CallAsBackend) is observed once with how its handler returned, a call
// answered without running it is not, and the frames written to
// sessions are observed as queue delays.
func TestObserver(t *testing.T) {
	obs := newObserver()
	srv, url := startServer(t, router.Options{
		Observer: obs,
		RPC: router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			switch c.URI {
			case "urn:error":
				return nil, errors.New("no")
			case "urn:panic":
				panic("boom")
			case "urn:defer":
				c.Defer().Send("later", nil)
				return nil, nil
			}
			return "ok", nil
		}),
		MaxURILength: 100,
	})
	c := dial(t, url)
	for i, tc := range []struct {
		uri  string
		want router.CallOutcome
	}{
		{"urn:ok", router.OutcomeResult},
		{"urn:error", router.OutcomeError},
		{"urn:panic", router.OutcomeError},
		{"urn:defer", router.OutcomeDeferred},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			before, _ := obs.snapshot()
			c.call(fmt.Sprintf(`[2,"%d",%q]`, i, tc.uri))
			// A deferred answer may arrive before its handler returns.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				after, _ := obs.snapshot()
				if after[tc.want] == before[tc.want]+1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: observed %v, then %v", tc.want, before, after)
				}
			}
		})
	}
	before, _ := obs.snapshot()
	c.call(fmt.Sprintf(`[2,"long",%q]`, "urn:"+strings.Repeat("x", 200))) // over MaxURILength: no handler runs
	if _, pe := srv.CallAsBackend(t.Context(), "urn:ok", nil); pe != nil {
		t.Fatal(pe)
	}
	after, _ := obs.snapshot()
	if after[router.OutcomeResult] != before[router.OutcomeResult]+1 || len(after) != len(before) {
		t.Errorf("a refused call and a backend call: observed %v, then %v", before, after)
	}

	// A publication to two subscribers: one flush of the publisher's
	// event, at least one observation.
	_, delays := obs.snapshot()
	s1, s2 := dial(t, url), dial(t, url)
	for _, s := range []*wsClient{s1, s2} {
		s.Send(`[5,"http://x.com/t?g=1"]`)
		s.call(`[2,"sync","urn:ok"]`) // the subscription is in place
	}
	c.Send(`[7,"http://x.com/t?g=1","hi"]`)
	s1.Recv()
	s2.Recv()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, d := obs.snapshot(); d > delays {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no queue delay observed")
		}
	}
	obs.mu.Lock()
	neg := obs.neg
	obs.mu.Unlock()
	if neg {
		t.Error("a negative duration was observed")
	}
}

// shardedObserver is a router.ShardedObserver whose shards are observers
// of their own, so a test can tell where calls were told.
type shardedObserver struct {
	*observer // the base: backend calls and queue delays
	mu        sync.Mutex
	shards    []*observer
}

func (o *shardedObserver) Shard() router.Observer {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := newObserver()
	o.shards = append(o.shards, s)
	return s
}

// TestShardedObserver: the workers' calls go to their shards of a
// router.ShardedObserver, a backend call to the observer itself.
func TestShardedObserver(t *testing.T) {
	obs := &shardedObserver{observer: newObserver()}
	srv, url := startServer(t, router.Options{
		Observer: obs,
		RPC: router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			return "ok", nil
		}),
	})
	const n = 20
	for i := range n {
		dial(t, url).call(fmt.Sprintf(`[2,"%d","urn:ok"]`, i))
	}
	if _, pe := srv.CallAsBackend(t.Context(), "urn:ok", nil); pe != nil {
		t.Fatal(pe)
	}
	obs.mu.Lock()
	shards := obs.shards
	obs.mu.Unlock()
	sum := 0
	for _, s := range shards {
		m, _ := s.snapshot()
		sum += m[router.OutcomeResult]
	}
	if base, _ := obs.observer.snapshot(); sum != n || base[router.OutcomeResult] != 1 || len(shards) == 0 {
		t.Fatalf("%d shards told %d calls, the observer itself %d; want %d and the backend call's 1", len(shards), sum, base[router.OutcomeResult], n)
	}
}

// TestShutdownDrain: Shutdown runs an Extension's Drain once the listener
// is closed and while the sessions are open, with a context that ends
// before its own, and closes the sessions after it returns.
func TestShutdownDrain(t *testing.T) {
	type seen struct {
		dialErr  error
		deadline time.Time
		sessions int64
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	drained := make(chan seen, 1)
	var srv *router.Server
	srv = router.New(router.Options{RPC: router.RPCHandlerFunc(func(context.Context, *router.Session, *router.Call) (any, error) {
		return "ok", nil
	}), Extensions: []router.Extension{{Drain: func(ctx context.Context) error {
		_, err := tryDial(url)
		d, _ := ctx.Deadline()
		drained <- seen{err, d, srv.Stats().Sessions}
		return nil
	}}}})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c := dial(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	s := <-drained
	c.ExpectClose(ws.StatusGoingAway, "server shutting down")
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, router.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if s.sessions != 1 {
		t.Errorf("%d sessions open during the drain, want 1", s.sessions)
	}
	if s.dialErr == nil {
		t.Error("a connection was accepted during the drain")
	}
	if want, _ := ctx.Deadline(); s.deadline.IsZero() || !s.deadline.Before(want) || want.Sub(s.deadline) > time.Second {
		t.Errorf("drain deadline %v, Shutdown's %v: want at most a second before", s.deadline, want)
	}
}
