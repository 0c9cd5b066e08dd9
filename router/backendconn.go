package router

import (
	"io"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wsconn"
)

// BackendAddr is the address of the session CallAsBackend calls as: its
// Session.RemoteAddr and Request().RemoteAddr. Its network and string are
// "backend".
var BackendAddr net.Addr = backendAddr{}

type backendAddr struct{}

func (backendAddr) Network() string { return "backend" }
func (backendAddr) String() string  { return "backend" }

// backendSession returns a session for one backend call: a Session like
// any other, whose connection is the transport's write-only kind
// (wsconn.Transport.Attach) over a backendConn, so that every method a
// handler may call works as on a connected session (Close included) and a
// deferred Reply answers through the connection as usual, where
// backendConn reads the answer back. It is never registered: Stats,
// Disconnect and the session hooks do not see it. The caller aborts its
// connection when the call is over.
func (srv *Server) backendSession() (*Session, *backendConn) {
	bc := &backendConn{answer: make(chan []byte, 1), closed: make(chan struct{})}
	s := &Session{id: BackendSessionID, srv: srv}
	s.req = &sessionRequest{full: &Request{URI: "/", URL: &url.URL{Path: "/"}, RemoteAddr: BackendAddr}}
	s.c = srv.t.Attach(bc, backendHandler{})
	return s, bc
}

// Backend reports whether s is the session of a CallAsBackend call
// (BackendSessionID, never connected) rather than a client's: middleware
// that authorizes calls by who the session is can tell a call made by the
// server's own backend, already authorized by its caller (an API key).
func (s *Session) Backend() bool {
	if s.c == nil {
		return false
	}
	_, ok := s.c.NetConn().(*backendConn)
	return ok
}

// backendHandler is the wsconn.Handler of a backend session's connection:
// nothing is ever read from it, and it holds no subscription.
type backendHandler struct{}

func (backendHandler) HandleMessage(*wsconn.Worker, ws.OpCode, []byte) bool { return false }
func (backendHandler) ConnClosing()                                         {}
func (backendHandler) ConnClosed()                                          {}

// backendConn is the in-memory socket of a backend session. What the
// transport writes to it are server frames (unmasked); the payload of the
// first text frame, the call's CALLRESULT or CALLERROR, goes to answer.
// Reads end at once (io.EOF). Its methods are called by the connection's
// flusher goroutine and by Abort.
type backendConn struct {
	mu   sync.Mutex
	buf  []byte // frame bytes not yet parsed
	done bool   // the answer was taken: later bytes are dropped

	answer chan []byte // one payload, buffered
	once   sync.Once
	closed chan struct{} // closed by Close
}

// Write collects frames; the first complete text frame is the answer.
func (b *backendConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	for {
		h, n, ok := parseServerHeader(b.buf)
		if !ok || int64(len(b.buf)-n) < h.Length {
			return len(p), nil
		}
		payload := b.buf[n : n+int(h.Length)]
		if h.OpCode == ws.OpText {
			b.done = true
			b.answer <- append([]byte(nil), payload...)
			b.buf = nil
			return len(p), nil
		}
		b.buf = b.buf[n+int(h.Length):] // a close frame, say
	}
}

// parseServerHeader reads the unmasked frame header at the start of b: the
// header, its length, and false when b does not hold all of it yet.
func parseServerHeader(b []byte) (ws.Header, int, bool) {
	if len(b) < 2 {
		return ws.Header{}, 0, false
	}
	n := 2
	switch b[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if len(b) < n {
		return ws.Header{}, 0, false
	}
	h, err := ws.ReadHeader(&sliceReader{b: b[:n]})
	if err != nil {
		return ws.Header{}, 0, false
	}
	return h, n, true
}

// sliceReader reads b once; a bytes.Reader without its size.
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (b *backendConn) Read([]byte) (int, error) { return 0, io.EOF }

func (b *backendConn) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

func (b *backendConn) LocalAddr() net.Addr              { return BackendAddr }
func (b *backendConn) RemoteAddr() net.Addr             { return BackendAddr }
func (b *backendConn) SetDeadline(time.Time) error      { return nil }
func (b *backendConn) SetReadDeadline(time.Time) error  { return nil }
func (b *backendConn) SetWriteDeadline(time.Time) error { return nil }
