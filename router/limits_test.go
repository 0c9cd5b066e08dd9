package router_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

func TestSubscriptionLimit(t *testing.T) {
	srv, url := startServer(t, router.Options{MaxSubscriptions: 2})
	sub := dial(t, url)
	subscribe(t, sub, "http://x.com/a", "http://x.com/b", "http://x.com/c")
	if st := srv.Stats(); st.SubscriptionsOverLimit != 1 || st.DroppedSubscribes != 1 || st.Subscriptions != 2 {
		t.Fatalf("stats: over limit %d, dropped %d, subscriptions %d; want 1, 1, 2",
			st.SubscriptionsOverLimit, st.DroppedSubscribes, st.Subscriptions)
	}
	pub := dial(t, url)
	pub.Send(`[7,"http://x.com/c","dropped"]`)
	pub.Send(`[7,"http://x.com/a","control"]`)
	if m := sub.Recv(); m != `[8,"http://x.com/a","control"]` {
		t.Fatalf("got %s, want only the control event", m)
	}
	// Unsubscribing frees a place; a duplicate does not count again.
	sub.Send(`[6,"http://x.com/a"]`)
	subscribe(t, sub, "http://x.com/b", "http://x.com/c")
	pub.Send(`[7,"http://x.com/c","now"]`)
	if m := sub.Recv(); m != `[8,"http://x.com/c","now"]` {
		t.Fatalf("got %s", m)
	}
	if st := srv.Stats(); st.SubscriptionsOverLimit != 1 {
		t.Fatalf("SubscriptionsOverLimit = %d after a duplicate", st.SubscriptionsOverLimit)
	}
}

func TestPrefixLimitOption(t *testing.T) {
	_, url := startServer(t, router.Options{MaxPrefixes: 2})
	c := dial(t, url)
	c.Send(`[1,"a","http://example.com/a#"]`)
	c.Send(`[1,"b","http://example.com/b#"]`)
	c.Send(`[1,"a","http://example.com/again#"]`) // a redefinition is fine
	syncSession(t, c)
	c.Send(`[1,"c","http://example.com/c#"]`)
	c.ExpectClose(1008, "more than 2 prefixes")
}

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name  string
		opts  router.Options
		flood func(c *wsClient)
		want  string
	}{
		{
			name: "messages",
			opts: router.Options{MessageRate: router.RateLimit{PerSecond: 1, Burst: 5}},
			flood: func(c *wsClient) {
				// Ten frames in one write: one read, so no refill between them.
				var b []byte
				for range 10 {
					b = append(b, wstest.MaskedFrame(ws.OpText, `[5,"http://x.com/t"]`)...)
				}
				c.Conn.Write(b)
			},
			want: "rate limit exceeded: more than 1 messages per second",
		},
		{
			name: "pings count as messages",
			opts: router.Options{MessageRate: router.RateLimit{PerSecond: 1, Burst: 3}},
			flood: func(c *wsClient) {
				var b []byte
				for range 5 {
					b = append(b, wstest.MaskedFrame(ws.OpPing, "")...)
				}
				c.Conn.Write(b)
			},
			want: "rate limit exceeded: more than 1 messages per second",
		},
		{
			name: "bytes",
			opts: router.Options{MaxMessageSize: 1000, ByteRate: router.RateLimit{PerSecond: 1, Burst: 1}},
			flood: func(c *wsClient) {
				// The burst is raised to MaxMessageSize plus headers: one
				// message of 900 bytes passes, the second cannot.
				ev := `"` + strings.Repeat("x", 870) + `"`
				c.Conn.Write(append(wstest.MaskedFrame(ws.OpText, `[7,"http://x.com/t",`+ev+`]`),
					wstest.MaskedFrame(ws.OpText, `[7,"http://x.com/t",`+ev+`]`)...))
			},
			want: "rate limit exceeded: more than 1 bytes per second",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.RPC = testRPC()
			srv, url := startServer(t, tc.opts)
			other := dial(t, url)
			abuser := dial(t, url)
			tc.flood(abuser)
			abuser.ExpectClose(1008, tc.want)
			if n := srv.Stats().RateLimited; n != 1 {
				t.Fatalf("RateLimited = %d", n)
			}
			// The other session goes on.
			if r := other.call(`[2,"1","http://example.com/echo","hi"]`); r[0] != float64(3) || fmt.Sprint(r[2]) != "[hi]" {
				t.Fatalf("other session: %v", r)
			}
		})
	}
}

func TestRateLimitOffAndRefill(t *testing.T) {
	// Off: a burst far over the default of another limit passes.
	_, url := startServer(t, router.Options{
		MessageRate: router.RateLimit{PerSecond: -1},
		ByteRate:    router.RateLimit{PerSecond: -1},
		RPC:         testRPC(),
	})
	c := dial(t, url)
	var b []byte
	for range 30_000 {
		b = append(b, wstest.MaskedFrame(ws.OpText, `[5,"http://x.com/t"]`)...)
	}
	// One write, finished before syncSession's: gobwas writes a frame's
	// header and payload separately, so a concurrent write could land
	// between them. SUBSCRIBE has no answer, so this cannot block on us.
	if _, err := c.Conn.Write(b); err != nil {
		t.Fatal(err)
	}
	syncSession(t, c)

	// Refilled over time: 3 tokens, 1 per second, steps spaced by more
	// than a second never empty the bucket.
	if testing.Short() {
		t.Skip("waits for refills")
	}
	_, url = startServer(t, router.Options{MessageRate: router.RateLimit{PerSecond: 1, Burst: 3}, RPC: testRPC()})
	c = dial(t, url)
	for i := range 2 {
		if r := c.call(fmt.Sprintf(`[2,"%d","http://example.com/echo","x"]`, i)); r[0] != float64(3) {
			t.Fatalf("call %d: %v", i, r)
		}
		time.Sleep(1100 * time.Millisecond)
		if r := c.call(`[2,"b","http://example.com/echo","x"]`); r[0] != float64(3) {
			t.Fatalf("call after refill %d: %v", i, r)
		}
	}
}

// waitSessions waits until the server counts n open sessions.
func waitSessions(t *testing.T, srv *router.Server, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().Sessions != n {
		if time.Now().After(deadline) {
			t.Fatalf("Sessions = %d, want %d", srv.Stats().Sessions, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConnLimits(t *testing.T) {
	tests := []struct {
		name string
		opts router.Options
		want string
	}{
		{"per IP", router.Options{MaxConnsPerIP: 2, RetryAfter: 7 * time.Second}, "too many connections from your address"},
		{"total", router.Options{MaxConns: 2, RetryAfter: 1500 * time.Millisecond}, "server is at its connection limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := startServer(t, tc.opts)
			a := dial(t, url)
			dial(t, url)
			r := wstest.RawUpgrade(t, url, wstest.Request{Protocols: []string{"wamp"}})
			if !strings.Contains(r.Status, " 503 ") {
				t.Fatalf("status %q, want 503", r.Status)
			}
			wantRetry := fmt.Sprint(int((tc.opts.RetryAfter + time.Second - 1) / time.Second))
			if got := r.Header.Get("Retry-After"); got != wantRetry {
				t.Fatalf("Retry-After %q, want %q", got, wantRetry)
			}
			if !strings.Contains(r.Body, tc.want) {
				t.Fatalf("body %q, want %q", r.Body, tc.want)
			}
			// Rejected is counted once the handshake goroutine is done with
			// the refused connection, which may be just after the 503
			// reaches the client.
			waitFor(t, func() bool { return srv.Stats().Rejected == 1 }, "counting the refusal")
			st := srv.Stats()
			if st.ConnsRefused != 1 || st.Rejected != 1 {
				t.Fatalf("ConnsRefused %d, Rejected %d; want 1, 1", st.ConnsRefused, st.Rejected)
			}
			// The slot comes back when a session closes, and only once.
			a.Conn.Close()
			waitSessions(t, srv, 1)
			dial(t, url)
			if r := wstest.RawUpgrade(t, url, wstest.Request{Protocols: []string{"wamp"}}); !strings.Contains(r.Status, " 503 ") {
				t.Fatalf("after one close and one dial: %q, want 503", r.Status)
			}
		})
	}
}

func TestConnLimitReleasedEachTime(t *testing.T) {
	// Sessions ended by the client (a hang-up, a close handshake) and by
	// the server (a protocol violation) each give their slot back once.
	srv, url := startServer(t, router.Options{MaxConnsPerIP: 1})
	for i, end := range []func(c *wsClient){
		func(c *wsClient) { c.Conn.Close() },
		func(c *wsClient) {
			c.SendFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(1000, "")))
			c.ExpectClose(1000, "")
			c.Conn.Close()
		},
		func(c *wsClient) { c.Send(`[99]`); c.ExpectClose(1002, ""); c.Conn.Close() },
		func(c *wsClient) { c.Conn.Close() },
	} {
		c := dial(t, url)
		if r := wstest.RawUpgrade(t, url, wstest.Request{Protocols: []string{"wamp"}}); !strings.Contains(r.Status, " 503 ") {
			t.Fatalf("round %d: second connection got %q, want 503", i, r.Status)
		}
		end(c)
		waitSessions(t, srv, 0)
	}
	if n := srv.Stats().ConnsRefused; n != 4 {
		t.Fatalf("ConnsRefused = %d, want 4", n)
	}
}

func TestTrustedProxies(t *testing.T) {
	type seen struct {
		sync.Mutex
		ips []netip.Addr
	}
	record := func(s *seen) router.HandshakeFilter {
		return router.HandshakeFilterFunc(func(r *router.Request) error {
			s.Lock()
			s.ips = append(s.ips, r.ClientIP)
			s.Unlock()
			return nil
		})
	}
	dialXFF := func(t *testing.T, url, xff string) error {
		d := ws.Dialer{Protocols: []string{"wamp"}, Timeout: 5 * time.Second,
			Header: ws.HandshakeHeaderHTTP(http.Header{"X-Forwarded-For": {xff}})}
		conn, _, _, err := d.Dial(context.Background(), url)
		if err == nil {
			t.Cleanup(func() { conn.Close() })
		}
		return err
	}

	t.Run("trusted peer", func(t *testing.T) {
		var s seen
		_, url := startServer(t, router.Options{
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			MaxConnsPerIP:  1,
			Filters:        []router.HandshakeFilter{record(&s)},
		})
		// The rightmost untrusted address is the client; a spoofed one to
		// its left is not believed.
		if err := dialXFF(t, url, "198.51.100.9, 203.0.113.5, 127.0.0.2"); err != nil {
			t.Fatal(err)
		}
		// Same client through the proxy: over its per-IP limit.
		err := dialXFF(t, url, "203.0.113.5")
		if err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("second connection of 203.0.113.5: %v, want 503", err)
		}
		// Another client through the same proxy.
		if err := dialXFF(t, url, "203.0.113.6"); err != nil {
			t.Fatal(err)
		}
		s.Lock()
		defer s.Unlock()
		want := []netip.Addr{
			netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("203.0.113.6"),
		}
		if fmt.Sprint(s.ips) != fmt.Sprint(want) {
			t.Fatalf("client IPs %v, want %v", s.ips, want)
		}
	})
	t.Run("untrusted peer", func(t *testing.T) {
		var s seen
		_, url := startServer(t, router.Options{
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			MaxConnsPerIP:  1,
			Filters:        []router.HandshakeFilter{record(&s)},
		})
		if err := dialXFF(t, url, "203.0.113.5"); err != nil {
			t.Fatal(err)
		}
		// X-Forwarded-For is ignored: both connections are 127.0.0.1's.
		if err := dialXFF(t, url, "203.0.113.6"); err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("second connection from 127.0.0.1: %v, want 503", err)
		}
		s.Lock()
		defer s.Unlock()
		if len(s.ips) != 2 || s.ips[0] != netip.MustParseAddr("127.0.0.1") || s.ips[1] != s.ips[0] {
			t.Fatalf("client IPs %v, want 127.0.0.1 twice", s.ips)
		}
	})
}

func TestHandshakePool(t *testing.T) {
	srv, url := startServer(t, router.Options{MaxHandshakes: 2, HandshakeTimeout: 3 * time.Second, RPC: testRPC()})
	sub, pub := dial(t, url), dial(t, url)
	subscribe(t, sub, "http://x.com/live")
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")

	// Three clients that start an upgrade and never finish it: two hold
	// the places, the third waits for one.
	var slow []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("GET / HTTP/1.1\r\n"))
		slow = append(slow, c)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().Accepted < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("Accepted = %d, want 5", srv.Stats().Accepted)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The pool is full: live sessions still exchange messages, served by
	// the worker pool.
	for i := range 20 {
		pub.Send(fmt.Sprintf(`[7,"http://x.com/live",%d]`, i))
		if m := sub.Recv(); m != fmt.Sprintf(`[8,"http://x.com/live",%d]`, i) {
			t.Fatalf("live session got %s", m)
		}
	}
	if r := pub.call(`[2,"1","http://example.com/echo","x"]`); r[0] != float64(3) {
		t.Fatalf("call during the storm: %v", r)
	}
	// The accept loop never waits for a place: a new client is accepted
	// at once, waits behind the slow ones, and is served when they time
	// out. HandshakeTimeout counts from each accept, so the late client
	// comes well after the slow ones, to have time left when they go.
	time.Sleep(time.Second)
	late := dial(t, url)
	syncSession(t, late)
	if n := srv.Stats().Accepted; n != 6 {
		t.Fatalf("Accepted = %d, want 6", n)
	}
	if n := srv.Stats().Rejected; n < 2 {
		t.Fatalf("Rejected = %d, want the timed-out handshakes", n)
	}
	for _, c := range slow {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		// Closed: an EOF, or a reset for the one closed with its request
		// line unread.
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("slow handshake not closed: %v", err)
		}
	}
}
