package client

import (
	"context"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/leakcheck"
)

// TestMain fails the run when goroutines started by the tests (readers of
// clients, fake servers) outlive them.
func TestMain(m *testing.M) {
	leakcheck.Main(m, leakcheck.Options{Wait: 2 * time.Second})
}

// dial connects to s and closes the client when the test ends.
func dial(t *testing.T, s *fakeServer, opts ...Option) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := Dial(ctx, s.url, opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitDone waits for the client's connection to end.
func waitDone(t *testing.T, c *Client) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(waitTimeout):
		t.Fatal("client connection did not end")
	}
}
