package router_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// trace records, in order, which plug point saw what.
type trace struct {
	mu     sync.Mutex
	events []string
}

func (tr *trace) add(e string) {
	tr.mu.Lock()
	tr.events = append(tr.events, e)
	tr.mu.Unlock()
}

// take returns the events so far and forgets them.
func (tr *trace) take() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s := strings.Join(tr.events, ", ")
	tr.events = nil
	return s
}

// tracePoints returns the four plug points, each recording under name.
func tracePoints(tr *trace, name string, closed chan<- struct{}) router.Extension {
	return router.Extension{
		Filter: router.HandshakeFilterFunc(func(*router.Request) error {
			tr.add(name + " filter")
			return nil
		}),
		RPC: func(next router.RPCHandler) router.RPCHandler {
			return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
				tr.add(name + " rpc")
				if c.URI == "urn:"+name {
					return name, nil // answered here
				}
				return next.ServeCall(ctx, s, c)
			})
		},
		Topics: router.TopicFuncs{
			OnSubscribe: func(_ context.Context, _ *router.Session, sub *router.Subscription) error {
				tr.add(name + " subscribe")
				if strings.Contains(sub.Topic, "deny="+name) {
					return errors.New("denied by " + name)
				}
				return nil
			},
			OnPublish: func(context.Context, *router.Session, *router.Publication) error {
				tr.add(name + " publish")
				return nil
			},
		},
		Hook: router.SessionHookFuncs{
			OnOpened: func(*router.Session) { tr.add(name + " opened") },
			OnClosed: func(*router.Session) {
				tr.add(name + " closed")
				if closed != nil {
					closed <- struct{}{}
				}
			},
		},
	}
}

// TestExtensionLayering checks the fixed layering of the package doc:
// an extension's filter, topic handler and hook come before the Options'
// own, its RPC middleware inside Options.RPCMiddleware, just around
// Options.RPC; and an extension answers calls even when Options.RPC is nil.
func TestExtensionLayering(t *testing.T) {
	tr := new(trace)
	closed := make(chan struct{}, 1)
	ext := tracePoints(tr, "ext", nil)
	app := tracePoints(tr, "app", closed)
	filters := make([]router.HandshakeFilter, 1, 4) // room to append: New must not
	filters[0] = app.Filter
	opts := router.Options{
		Filters:       filters,
		RPCMiddleware: []router.RPCMiddleware{app.RPC},
		Topics:        []router.TopicHandler{app.Topics},
		SessionHooks:  []router.SessionHook{app.Hook},
	}
	opts.Extensions = append(opts.Extensions, ext) // after the rest: order of building does not matter
	srv, url := startServer(t, opts)
	if len(opts.Filters) != 1 || filters[:2][1] != nil {
		t.Fatalf("New changed the caller's Filters: %v", filters[:2])
	}

	c := dial(t, url)
	c.call(`[2,"0","urn:ext"]`) // the hooks are done once a call is answered
	if got, want := tr.take(), "ext filter, app filter, ext opened, app opened, app rpc, ext rpc"; got != want {
		t.Fatalf("opening: %s, want %s", got, want)
	}
	tests := []struct {
		call, want, trace string
	}{
		{`[2,"1","urn:ext"]`, `[3,"1","ext"]`, "app rpc, ext rpc"},
		{`[2,"2","urn:app"]`, `[3,"2","app"]`, "app rpc"},
		{`[2,"3","urn:none"]`, `[4,"3","` + protocol.ErrorURINoSuchProcedure + `","no procedure registered for urn:none"]`,
			"app rpc, ext rpc"},
	}
	for _, tt := range tests {
		c.Send(tt.call)
		if got := c.Recv(); got != tt.want {
			t.Errorf("%s answered %s, want %s", tt.call, got, tt.want)
		}
		if got := tr.take(); got != tt.trace {
			t.Errorf("%s went through %s, want %s", tt.call, got, tt.trace)
		}
	}

	// Topic handlers run in order; the first error drops the message.
	subscribe(t, c, "urn:t?deny=ext", "urn:t?deny=app", "urn:t")
	if got, want := tr.take(), "ext subscribe, ext subscribe, app subscribe, ext subscribe, app subscribe, app rpc, ext rpc"; got != want {
		t.Errorf("subscribes: %s, want %s", got, want)
	}
	if got := srv.Stats().DroppedSubscribes; got != 2 {
		t.Errorf("DroppedSubscribes = %d, want 2", got)
	}
	c.Send(`[7,"urn:t",1]`)
	c.call(`[2,"4","urn:app"]`) // the PUBLISH is handled before this call
	if got, want := tr.take(), "ext publish, app publish, app rpc"; got != want {
		t.Errorf("publish: %s, want %s", got, want)
	}

	c.Conn.Close()
	<-closed // the last hook
	if got, want := tr.take(), "ext closed, app closed"; got != want {
		t.Errorf("closing: %s, want %s", got, want)
	}
}

// TestRPCMiddlewareWithoutRPC checks that RPCMiddleware runs when
// Options.RPC is nil, and that what it passes on gets NoSuchRPCEndpoint.
func TestRPCMiddlewareWithoutRPC(t *testing.T) {
	tr := new(trace)
	_, url := startServer(t, router.Options{RPCMiddleware: []router.RPCMiddleware{
		func(next router.RPCHandler) router.RPCHandler {
			return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
				tr.add(c.URI)
				if c.URI == "urn:mine" {
					return "mine", nil
				}
				return next.ServeCall(ctx, s, c)
			})
		},
	}})
	c := dial(t, url)
	if r := c.call(`[2,"1","urn:mine"]`); r[0] != float64(3) || r[2] != "mine" {
		t.Fatalf("answered %v", r)
	}
	if r := c.call(`[2,"2","urn:other"]`); r[0] != float64(4) || r[2] != protocol.ErrorURINoSuchProcedure {
		t.Fatalf("answered %v", r)
	}
	if got := tr.take(); got != "urn:mine, urn:other" {
		t.Fatalf("middleware saw %s", got)
	}
}
