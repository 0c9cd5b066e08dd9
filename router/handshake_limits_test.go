package router_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// rawRequest writes head to the ws:// url's host from its own goroutine
// (the server may stop reading long before the end, so the write may
// fail) and returns the answer's status and body.
func rawRequest(t *testing.T, url, head string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go conn.Write([]byte(head))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// upgradeHead is an upgrade request for path with extra header lines, each
// ending in CRLF.
func upgradeHead(path, extra string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: wamp\r\n" + extra + "\r\n"
}

// TestHandshakeLineLimits checks docs/protocol.md#http-refusals: a request
// line over MaxRequestLine is answered 414, a header line over
// MaxHeaderLine or a request over MaxHandshakeBytes 431, each with its
// reason and before the handshake filters run; requests at the limits
// pass.
func TestHandshakeLineLimits(t *testing.T) {
	deny := router.HandshakeFilterFunc(func(*router.Request) error {
		return &router.HTTPError{Status: http.StatusUnauthorized, Reason: "no credentials"}
	})
	srv, url := startServer(t, router.Options{
		MaxRequestLine: 1024, MaxHeaderLine: 2048, MaxHandshakeBytes: 8192,
		Filters: []router.HandshakeFilter{deny},
	})
	line := func(n int) string { return "X-Pad: " + strings.Repeat("a", n-len("X-Pad: ")) + "\r\n" }
	for _, tc := range []struct {
		name, head string
		status     int
		reason     string
	}{
		{"request line at the limit", upgradeHead("/"+strings.Repeat("u", 1024-len("GET / HTTP/1.1")), ""), 401, "no credentials"},
		{"request line over", upgradeHead("/"+strings.Repeat("u", 1025-len("GET / HTTP/1.1")), ""), 414, "request line longer than 1024 bytes"},
		{"request line over, no CRLF yet", "GET /" + strings.Repeat("u", 1<<20), 414, "request line longer than 1024 bytes"},
		{"header line at the limit", upgradeHead("/", line(2048)), 401, "no credentials"},
		{"header line over", upgradeHead("/", line(2049)), 431, "header line longer than 2048 bytes"},
		{"header line over, bare LF", strings.ReplaceAll(upgradeHead("/", line(2049)), "\r\n", "\n"), 431, "header line longer than 2048 bytes"},
		{"huge header line", upgradeHead("/", "Cookie: "+strings.Repeat("c", 8<<20)+"\r\n"), 431, "header line longer than 2048 bytes"},
		{"total over", upgradeHead("/", strings.Repeat(line(2000), 5)), 431, "request header larger than 8192 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Stats().RequestsTooLarge
			status, body := rawRequest(t, url, tc.head)
			if status != tc.status || body != tc.reason {
				t.Fatalf("answer %d %q, want %d %q", status, body, tc.status, tc.reason)
			}
			want := before
			if tc.status != 401 {
				want++
			}
			if got := srv.Stats().RequestsTooLarge; got != want {
				t.Fatalf("RequestsTooLarge = %d, want %d", got, want)
			}
		})
	}
}

// TestHandshakeHugeLineMemory sends header lines of 64 MiB, which gobwas/ws
// alone would buffer whole, and checks that the server refuses each with
// 431 having allocated a small fraction of that (runtime.MemStats, a
// generous bound; the client writes from one reused buffer).
func TestHandshakeHugeLineMemory(t *testing.T) {
	_, url := startServer(t, router.Options{})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	chunk := []byte(strings.Repeat("c", 64<<10))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 4 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nCookie: "); err != nil {
				return
			}
			for range 1024 { // 64 MiB, unless the server stops reading
				if _, err := conn.Write(chunk); err != nil {
					return
				}
			}
		}()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
		conn.Close()
	}
	runtime.ReadMemStats(&after)
	d := after.TotalAlloc - before.TotalAlloc
	if d > 16<<20 {
		t.Fatalf("four refused 64 MiB header lines allocated %d MiB, want well under 16", d>>20)
	}
	t.Logf("four refused 64 MiB header lines: %d KiB allocated in all", d>>10)
}

// TestPlainBadQuery checks docs/protocol.md#plain-connections: a plain
// connection whose query does not parse (the tags may be the pair that was
// dropped) is refused with 400 and url.ParseQuery's reason, not taken as a
// connection without tags.
func TestPlainBadQuery(t *testing.T) {
	srv, base := startServer(t, router.Options{})
	for _, tc := range []struct{ name, path, reason string }{
		{"bad escape", "/?tags=%ZZ", `bad query: invalid URL escape "%ZZ"`},
		{"semicolon", `/?tags={"a":"x"};x`, "bad query: invalid semicolon separator in query"},
		{"bad escape elsewhere", `/?tags={"a":"x"}&b=%G0`, `bad query: invalid URL escape "%G0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := wstest.RawUpgrade(t, base, wstest.Request{Path: tc.path})
			if r.Code != http.StatusBadRequest || r.Body != tc.reason {
				t.Fatalf("answer %q %q, want 400 %q", r.Status, r.Body, tc.reason)
			}
		})
	}
	if n := srv.Stats().Sessions; n != 0 {
		t.Fatalf("%d sessions opened", n)
	}
	// A WAMP connection does not read its query: it is not refused.
	r := wstest.RawUpgrade(t, base, wstest.Request{Path: "/?x=%ZZ", Protocols: []string{"wamp"}})
	if r.Code != http.StatusSwitchingProtocols {
		t.Fatalf("WAMP connection with a bad query: %q %q", r.Status, r.Body)
	}
}
