package auth

import (
	"context"
	"testing"

	"github.com/tagwamp/tagwamp/router"
)

// TestRPCInline: the permission gate keeps a call inline when the handler
// it wraps says so, never for the WAMP-CRA procedures, and never over a
// handler that cannot say.
func TestRPCInline(t *testing.T) {
	a, err := New(Options{Applications: testApps(), Anonymous: browserPerms})
	if err != nil {
		t.Fatal(err)
	}
	plain := router.RPCHandlerFunc(func(context.Context, *router.Session, *router.Call) (any, error) { return nil, nil })
	for _, tc := range []struct {
		name string
		next router.RPCHandler
		uri  string
		want bool
	}{
		{"inline next", router.Inline(plain), "urn:x", true},
		{"authreq", router.Inline(plain), ProcAuthReq, false},
		{"auth", router.Inline(plain), ProcAuth, false},
		{"plain next", plain, "urn:x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ih, ok := a.RPC(tc.next).(router.InlineHandler)
			if !ok {
				t.Fatal("Auth.RPC's handler does not implement router.InlineHandler")
			}
			if got := ih.Inline(&router.Call{URI: tc.uri}); got != tc.want {
				t.Fatalf("Inline(%s) = %v, want %v", tc.uri, got, tc.want)
			}
		})
	}
}
