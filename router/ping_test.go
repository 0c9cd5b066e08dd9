package router_test

import (
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/router"
)

// The ping rules (docs/protocol.md#websocket): a session silent for
// PingInterval is pinged; one that then sends nothing for PingTimeout is
// closed with 1001. The server's one sweeper checks them every quarter
// interval, so a ping or a close may come that much late, never early.
// These tests assert only the "never early" bounds, with the client's
// clock started before the server can have read anything, and wait with
// generous deadlines otherwise.
const (
	pingInterval = 200 * time.Millisecond
	pingTimeout  = 400 * time.Millisecond
	pingWait     = 10 * time.Second // generous: the sweep's slack is pingInterval/4
)

// nextControl reads the next frame, answering nothing, and fails the test
// on a read error.
func nextControl(t *testing.T, c *wsClient) (ws.OpCode, []byte) {
	t.Helper()
	h, p, err := c.NextFrame(pingWait)
	if err != nil {
		t.Fatalf("no frame within %v: %v", pingWait, err)
	}
	return h.OpCode, p
}

func TestPingTimeoutNeverEarly(t *testing.T) {
	tests := []struct {
		name string
		// pongFirst: the client answers the first ping, then falls
		// silent: the pong restarts the clock.
		pongFirst bool
	}{
		{"silent peer", false},
		{"pong then silent", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := startServer(t, router.Options{PingInterval: pingInterval, PingTimeout: pingTimeout})
			start := time.Now() // before the server's last read of this client
			c := dial(t, url)
			op, p := nextControl(t, c)
			if op != ws.OpPing {
				t.Fatalf("got opcode %v, want a ping", op)
			}
			if d := time.Since(start); d < pingInterval {
				t.Fatalf("pinged after %v of silence, want at least %v", d, pingInterval)
			}
			if tt.pongFirst {
				start = time.Now() // before the server reads the pong
				if err := c.WriteFrame(ws.MaskFrameInPlace(ws.NewPongFrame(p))); err != nil {
					t.Fatal(err)
				}
				if op, _ = nextControl(t, c); op != ws.OpPing {
					t.Fatalf("after the pong: opcode %v, want a second ping", op)
				}
				if d := time.Since(start); d < pingInterval {
					t.Fatalf("pinged %v after the pong, want at least %v", d, pingInterval)
				}
			}
			op, p = nextControl(t, c)
			if op != ws.OpClose {
				t.Fatalf("got opcode %v, want the close", op)
			}
			code, reason := ws.ParseCloseFrameData(p)
			if code != 1001 || reason != "ping timeout" {
				t.Fatalf("closed with %d %q, want 1001 \"ping timeout\"", code, reason)
			}
			if d := time.Since(start); d < pingInterval+pingTimeout {
				t.Fatalf("closed after %v of silence, want at least %v", d, pingInterval+pingTimeout)
			}
		})
	}
}

// TestAnyFrameResetsPingClock: a client that never answers a ping but
// sends a message more often than PingInterval is never closed for it.
func TestAnyFrameResetsPingClock(t *testing.T) {
	// Longer than the others: a send delayed past interval+timeout on a
	// loaded machine would be a legitimate close.
	const interval, timeout = 500 * time.Millisecond, time.Second
	srv, url := startServer(t, router.Options{PingInterval: interval, PingTimeout: timeout})
	c := dial(t, url)
	end := time.Now().Add(3 * (interval + timeout))
	for time.Now().Before(end) {
		c.Send(`[1,"p","http://example.com/"]`) // PREFIX: no answer
		time.Sleep(interval / 5)
	}
	syncSession(t, c)
	if n := srv.Stats().PingTimeouts; n != 0 {
		t.Fatalf("PingTimeouts = %d, want 0", n)
	}
}
