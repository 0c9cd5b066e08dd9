package interop_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

// TestWamp1ClientCRA authenticates the third-party client wamp1 with
// WAMP-CRA, with and without salt, as an AutobahnJS 0.8 application does
// (see wamp1_cra.js): the signatures come from node's crypto, not from Go.
func TestWamp1ClientCRA(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; .ci/run installs it")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "wamp1")); err != nil {
		t.Skip("run `npm ci` in interop/ first (.ci/run does)")
	}
	const key, secret = "application1", "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW"
	a, err := auth.New(auth.Options{
		RequireCredentials: true,
		FailDelay:          10 * time.Millisecond,
		Applications: []auth.Application{{Key: key, Secret: secret, AuthorizeOpen: true, Permissions: &auth.Permissions{
			RPC: []auth.RPCRule{{URI: "urn:test#", Prefix: true, Call: true}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := new(handlers.Mux)
	mux.HandleFunc("urn:test#private", func(context.Context, *router.Session, *router.Call) (any, error) {
		return "private ok", nil
	})
	opts := router.Options{RPC: mux}
	a.Install(&opts)
	srv := router.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, router.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "wamp1_cra.js", "ws://"+ln.Addr().String()+"/", key, secret).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "cra ok") {
		t.Fatalf("wamp1 client: %v\n%s", err, out)
	}
	if n := a.Stats().FailedCRA; n != 1 {
		t.Errorf("FailedCRA = %d, want 1", n)
	}
}
