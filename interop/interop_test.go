package interop_test

import (
	"testing"

	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

// TestWamp1Client drives the npm package wamp1, a WAMP v1 client written
// by a third party, against the real server (see wamp1_client.js). It
// needs node and `npm ci` in this directory, which .ci/run does.
func TestWamp1Client(t *testing.T) {
	needNode(t)
	mux := new(handlers.Mux)
	srv := router.New(router.Options{RPC: mux})
	handlers.RegisterBuiltins(mux, srv)
	addr := serve(t, srv)
	runNode(t, "wamp1_client.js", "interop ok", "ws://"+addr+"/")
}
