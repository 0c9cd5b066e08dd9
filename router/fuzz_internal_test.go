package router

import (
	"bytes"
	"context"
	"fmt"
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
		c := &conn{srv: srv, nc: nc}
		r, _, asParsed, err := srv.upgrade(c, nc)
		defer c.releaseSlot()
		resp := nc.w.String()
		if err == nil {
			if !strings.HasPrefix(resp, "HTTP/1.1 101 ") || r == nil || !r.ClientIP.IsValid() {
				t.Fatalf("upgraded with response %q, request %+v", resp, r)
			}
			if !c.slot.Load() {
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
		if c.slot.Load() {
			t.Fatalf("refused (%v) but holds a connection slot", err)
		}
	})
}

// FuzzFrames feeds arbitrary bytes to the frame reader of a session, as
// the socket would deliver them, once whole and once cut into reads of
// 1 to 17 bytes (the first input byte picks the size). It must never
// panic, keep its buffer within MaxMessageSize plus a header, and handle
// the same messages and reach the same end either way.
func FuzzFrames(f *testing.F) {
	const maxMsg = 4096
	// What the session's messages did, as the plug points see it: each
	// CALL, SUBSCRIBE and PUBLISH with its URI (so PREFIXes show in how
	// they resolve), and, after the run, the messages read and the
	// subscriptions left (so UNSUBSCRIBEs show).
	var got *[]string
	record := func(what, uri string) { *got = append(*got, what+" "+uri) }
	srv := New(Options{MaxMessageSize: maxMsg, PingInterval: -1,
		RPC: RPCHandlerFunc(func(_ context.Context, _ *Session, c *Call) (any, error) {
			record("CALL", c.URI)
			return nil, nil
		}),
		Topics: []TopicHandler{TopicFuncs{
			OnSubscribe: func(_ context.Context, _ *Session, sub *Subscription) error {
				record("SUBSCRIBE", sub.Topic)
				return nil
			},
			OnPublish: func(_ context.Context, _ *Session, pub *Publication) error {
				record("PUBLISH", pub.Topic)
				return nil
			},
		}},
	})
	if err := srv.init(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.poller.close() })
	run := func(t *testing.T, data []byte, chunk int) ([]string, bool) {
		var msgs []string
		got = &msgs
		in := srv.stats.messagesIn.Load()
		nc := &memConn{r: bytes.NewReader(nil), remote: &net.TCPAddr{}}
		c := &conn{srv: srv, nc: nc, fd: -1}
		c.flushFn = c.flush
		s := &Session{id: "fuzz", c: c}
		c.sess = s
		w := newWorker()
		s.w = w
		open := true
		for len(data) > 0 && open {
			if c.rbuf == nil {
				c.rbuf = srv.bufs.get()
			}
			n := copy(c.rbuf[c.rlen:], data[:min(len(data), chunk)])
			data = data[n:]
			c.rlen += n
			open = c.processFrames(w)
			if c.rlen > len(c.rbuf) || len(c.rbuf) > max(bufSize, maxMsg+14) {
				t.Fatalf("read buffer: %d of %d bytes", c.rlen, len(c.rbuf))
			}
		}
		if open != !c.closing() {
			t.Fatalf("processFrames said open=%v, closing() says %v", open, c.closing())
		}
		s.mu.Lock()
		subs := len(s.subs)
		s.mu.Unlock()
		msgs = append(msgs, fmt.Sprintf("read %d, subscribed %d", srv.stats.messagesIn.Load()-in, subs))
		c.abort()
		return msgs, open
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		chunk := 1 + int(data[0])%17
		whole, openWhole := run(t, data[1:], len(data))
		split, openSplit := run(t, data[1:], chunk)
		if fmt.Sprint(whole) != fmt.Sprint(split) || openWhole != openSplit {
			t.Fatalf("whole: %v open=%v; in %d-byte reads: %v open=%v", whole, openWhole, chunk, split, openSplit)
		}
	})
}
