package interop_test

import (
	"context"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

// TestWamp1ClientCRA authenticates the third-party client wamp1 with
// WAMP-CRA, with and without salt, as an AutobahnJS 0.8 application does
// (see wamp1_cra.js): the signatures come from node's crypto, not from Go.
// The salted application's parameters are the server's; the challenge's
// authextra tells them to the client.
func TestWamp1ClientCRA(t *testing.T) {
	needNode(t)
	const key, salted, secret = "application1", "salted", "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW"
	perms := &auth.Permissions{RPC: []auth.RPCRule{{URI: "urn:test#", Prefix: true, Call: true}}}
	a, err := auth.New(auth.Options{
		RequireCredentials: true,
		FailDelay:          10 * time.Millisecond,
		Applications: []auth.Application{
			{Key: key, Secret: secret, AuthorizeOpen: true, Permissions: perms},
			{Key: salted, Secret: secret, AuthorizeOpen: true, Permissions: perms,
				CRA: &auth.SaltParams{Salt: "pepper", Iterations: 1000, KeyLen: 16}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := new(handlers.Mux)
	mux.HandleFunc("urn:test#private", func(context.Context, *router.Session, *router.Call) (any, error) {
		return "private ok", nil
	})
	addr := serve(t, router.New(router.Options{RPC: mux, Extensions: []router.Extension{a.Extension()}}))
	runNode(t, "wamp1_cra.js", "cra ok", "ws://"+addr+"/", key, salted, secret)
	if n := a.Stats().FailedCRA; n != 1 {
		t.Errorf("FailedCRA = %d, want 1", n)
	}
}
