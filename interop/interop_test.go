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

	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

// TestWamp1Client drives the npm package wamp1, a WAMP v1 client written
// by a third party, against the real server (see wamp1_client.js). It
// needs node and `npm ci` in this directory, which .ci/run does.
func TestWamp1Client(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; .ci/run installs it")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "wamp1")); err != nil {
		t.Skip("run `npm ci` in interop/ first (.ci/run does)")
	}
	mux := new(handlers.Mux)
	srv := router.New(router.Options{RPC: mux})
	handlers.RegisterBuiltins(mux, srv)
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
	out, err := exec.CommandContext(ctx, node, "wamp1_client.js", "ws://"+ln.Addr().String()+"/").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "interop ok") {
		t.Fatalf("wamp1 client: %v\n%s", err, out)
	}
}
