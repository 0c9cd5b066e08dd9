package auth

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// TestExtensionUnderRPCMiddleware checks the layering that cmd/tagwamp
// relies on without arranging it: the options' RPC middleware (a call
// logger) sees every call, the ones a denies and the WAMP-CRA procedures
// it answers itself included.
func TestExtensionUnderRPCMiddleware(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	logCalls := func(next router.RPCHandler) router.RPCHandler {
		return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			res, err := next.ServeCall(ctx, s, c)
			errURI := ""
			if e := router.CallError(c.URI, err); e != nil {
				errURI = e.URI
			}
			mu.Lock()
			seen = append(seen, c.URI+" "+errURI)
			mu.Unlock()
			return res, err
		})
	}
	_, _, u := startAuth(t, Options{Applications: testApps(), Anonymous: browserPerms},
		router.Options{RPCMiddleware: []router.RPCMiddleware{logCalls}})
	c := dial(t, u)
	if uri, _ := c.callError("urn:other"); uri != protocol.ErrorURINotAuthorized {
		t.Fatalf("denied call answered %s", uri)
	}
	c.mustResult(ProcAuthReq, nil)
	c.mustResult(whoami)
	mu.Lock()
	defer mu.Unlock()
	want := "urn:other " + protocol.ErrorURINotAuthorized + "|" + ProcAuthReq + " |" + whoami + " "
	if got := strings.Join(seen, "|"); got != want {
		t.Fatalf("the RPC middleware saw %q, want %q", got, want)
	}
}

// TestExtensionWithoutRPC checks that the WAMP-CRA procedures are
// answered, and permissions checked, when the options have no RPC handler.
func TestExtensionWithoutRPC(t *testing.T) {
	a, err := New(Options{Applications: testApps(), Anonymous: browserPerms})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(router.Options{Extensions: []router.Extension{a.Extension()}})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, router.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	u := "ws://" + ln.Addr().String() + "/"

	c := dial(t, u)
	c.mustResult(ProcAuthReq, nil)
	if uri, _ := c.callError("urn:other"); uri != protocol.ErrorURINotAuthorized {
		t.Fatalf("denied call answered %s", uri)
	}
	b := dial(t, backendURL(u)) // AllPermissions: reaches the missing handler
	if uri, desc := b.callError("urn:other"); uri != protocol.ErrorURINoSuchProcedure ||
		desc != "no procedure registered for urn:other" {
		t.Fatalf("allowed call answered %s %q", uri, desc)
	}
}
