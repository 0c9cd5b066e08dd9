package router_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/leakcheck"
	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// TestMain fails the run if router goroutines outlive the tests; the
// pool's idle workers exit on their own timer, so they are not counted.
func TestMain(m *testing.M) {
	leakcheck.Main(m, leakcheck.Options{Wait: 15 * time.Second, Leaked: func(g string) bool {
		return strings.Contains(g, "tagwamp/router.") && !strings.Contains(g, "router.(*pool).run")
	}})
}

// startServer serves o on a loopback port and shuts it down with the test.
func startServer(t testing.TB, o router.Options) (*router.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(o)
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
	return srv, "ws://" + ln.Addr().String() + "/"
}

// wsClient is wstest's raw WebSocket client with this package's WAMP
// helpers.
type wsClient struct{ *wstest.Client }

// dial connects offering protos ("wamp" when none) and reads WELCOME.
func dial(t testing.TB, url string, protos ...string) *wsClient {
	t.Helper()
	return &wsClient{wstest.Dial(t, url, wstest.Options{Protocols: protos})}
}

// tryDial connects offering protos ("wamp" when nil) and reads nothing.
func tryDial(url string, protos ...string) (*wsClient, error) {
	c, err := wstest.Open(url, wstest.Options{Protocols: protos})
	if err != nil {
		return nil, err
	}
	return &wsClient{c}, nil
}

// send, next and recv are kept for loopback_bench_test.go; the tests call
// Send, Next and Recv.
func (c *wsClient) send(msg string) { c.T.Helper(); c.Send(msg) }

func (c *wsClient) next(timeout time.Duration) (string, error) { return c.Next(timeout) }

func (c *wsClient) recv() string { c.T.Helper(); return c.Recv() }

// call sends a CALL and returns the decoded reply.
func (c *wsClient) call(msg string) []any {
	c.T.Helper()
	c.Send(msg)
	var r []any
	c.RecvJSON(&r)
	return r
}
