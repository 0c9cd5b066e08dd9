package router

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memConn is a net.Conn for fuzzing: reads come from r (then EOF), writes
// go to w, deadlines are ignored.
type memConn struct {
	r      io.Reader
	w      bytes.Buffer
	remote net.Addr
}

func (m *memConn) Read(p []byte) (int, error)       { return m.r.Read(p) }
func (m *memConn) Write(p []byte) (int, error)      { return m.w.Write(p) }
func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return m.remote }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzHandshake feeds arbitrary bytes as the HTTP upgrade request of a
// connection from a trusted proxy, through the server's whole upgrade path
// (gobwas/ws's parser, the subprotocol rule, X-Forwarded-For, the
// connection limits). It must never panic, and it answers either 101 or a
// 4xx/5xx with a reason; it may write nothing only when the request ended
// before it was complete.
func FuzzHandshake(f *testing.F) {
	srv := New(Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		MaxConnsPerIP:  1,
		MaxConns:       1,
	})
	f.Fuzz(func(t *testing.T, req []byte) {
		nc := &memConn{r: bytes.NewReader(req), remote: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 4}}
		s := srv.newSession()
		s.c = srv.t.Attach(nc, (*connHandler)(s))
		r, asParsed, err := srv.upgrade(s, &headReader{r: nc, lim: &srv.head}, nc)
		defer s.releaseSlot()
		resp := nc.w.String()
		if err == nil {
			if !strings.HasPrefix(resp, "HTTP/1.1 101 ") || r == nil || !r.ClientIP.IsValid() {
				t.Fatalf("upgraded with response %q, request %+v", resp, r)
			}
			if !s.slot.Load() {
				t.Fatal("upgraded without a connection slot")
			}
			// A session drops such a URL and parses URI again (trimRequest).
			if u, err := url.ParseRequestURI(r.URI); !asParsed || err != nil || *u != *r.URL {
				t.Fatalf("URI %q does not parse again to URL %+v (asParsed %v): %v", r.URI, r.URL, asParsed, err)
			}
			return
		}
		if resp == "" {
			return // the request ended early: nothing to answer
		}
		status, rest, ok := strings.Cut(resp, "\r\n")
		code := 0
		if f := strings.Fields(status); len(f) >= 2 && f[0] == "HTTP/1.1" {
			code, _ = strconv.Atoi(f[1])
		}
		if !ok || code < 400 || code > 599 {
			t.Fatalf("refused (%v) with status line %q", err, status)
		}
		if _, body, _ := strings.Cut(rest, "\r\n\r\n"); body == "" {
			t.Fatalf("refused (%v) with %d and no reason", err, code)
		}
		if s.slot.Load() {
			t.Fatalf("refused (%v) but holds a connection slot", err)
		}
	})
}
