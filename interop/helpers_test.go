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

	"github.com/tagwamp/tagwamp/router"
)

// needNode returns the path of node, or skips the test where node or the
// npm package wamp1 is not installed (.ci/run installs both).
func needNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node is not installed", "apt-get install nodejs npm && npm ci --prefix interop")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "wamp1")); err != nil {
		missing(t, "the pinned WAMP v1 clients are not installed", "npm ci --prefix interop")
	}
	return node
}

// missing stops a test that lacks a tool: under CI (CI=true) it fails,
// since .ci/run installs every tool and a skip there would hide a broken
// install; elsewhere it skips, saying what to run to enable it.
func missing(t *testing.T, what, enable string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (under CI=true a missing tool fails the run); .ci/run installs it: %s", what, enable)
	}
	t.Skipf("%s; to run this test: %s", what, enable)
}

// serve serves srv on a loopback port, shuts it down with the test and
// returns the port's address.
func serve(t *testing.T, srv *router.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, router.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// runNode runs a script of this directory with node and args (30s at
// most) and fails the test unless it exits 0 and prints ok.
func runNode(t *testing.T, script, ok string, args ...string) {
	t.Helper()
	node := needNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, append([]string{script}, args...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ok) {
		t.Fatalf("wamp1 client: %v\n%s", err, out)
	}
}
