package router

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// webIdleTimeout is how long an HTTP connection may stay idle between
// requests before the server closes it; webReadTimeout bounds reading one
// whole request, body included, and webWriteTimeout writing its answer
// (a /api/call waits for its procedure: up to CallTimeout, so the write
// bound is the larger of the two), so that a client sending or reading
// slowly holds one of MaxHTTPConns for a bounded time.
const (
	webIdleTimeout  = 60 * time.Second
	webReadTimeout  = 30 * time.Second
	webWriteTimeout = 30 * time.Second
)

// web serves the requests that are not WebSocket upgrades
// (Options.HTTP) with net/http, on the connections the handshake hands
// it: an http.Server whose listener is fed by serve rather than by
// accept, so that HTTP shares the port, the accept loop, the waiting room,
// the TLS handshake and the head limits with the WebSocket sessions.
type web struct {
	srv  *http.Server
	ln   *handoff
	sem  chan struct{} // a token per HTTP connection (Options.MaxHTTPConns)
	once sync.Once
}

func newWeb(s *Server) *web {
	w := &web{
		ln:  &handoff{conns: make(chan net.Conn), done: make(chan struct{})},
		sem: make(chan struct{}, s.opts.MaxHTTPConns),
	}
	w.srv = &http.Server{
		Handler:           s.opts.HTTP,
		ReadHeaderTimeout: s.opts.HandshakeTimeout,
		ReadTimeout:       webReadTimeout,
		WriteTimeout:      max(webWriteTimeout, s.opts.CallTimeout+5*time.Second),
		IdleTimeout:       webIdleTimeout,
		MaxHeaderBytes:    s.opts.MaxHandshakeBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	return w
}

// serve hands nc to the HTTP server: rw is what carries its bytes (nc, or
// its TLS layer) and head the bytes of the first request read so far.
// Past MaxHTTPConns connections it answers 503 and closes nc.
func (w *web) serve(nc net.Conn, rw net.Conn, head []byte) {
	nc.SetDeadline(time.Time{})
	select {
	case w.sem <- struct{}{}:
	default:
		writeRefusal(rw, &headLimitError{http.StatusServiceUnavailable, "too many HTTP connections; retry later"})
		nc.Close()
		return
	}
	w.once.Do(func() { go w.srv.Serve(w.ln) })
	c := &webConn{Conn: rw, in: io.MultiReader(bytes.NewReader(head), rw), release: func() { <-w.sem }}
	select {
	case w.ln.conns <- c:
	case <-w.ln.done:
		c.Close()
	}
}

// shutdown ends the HTTP server: idle connections close at once, active
// ones when their request is done or ctx ends.
func (w *web) shutdown(ctx context.Context) {
	w.ln.Close()
	w.srv.Shutdown(ctx)
}

// handoff is the net.Listener of the HTTP server: Accept returns the
// connections serve hands it.
type handoff struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoff) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *handoff) Addr() net.Addr { return handoffAddr{} }

type handoffAddr struct{}

func (handoffAddr) Network() string { return "tagwamp" }
func (handoffAddr) String() string  { return "tagwamp-handoff" }

// webConn is an HTTP connection whose first bytes were read by the
// handshake: they are read again first. Close gives its place back.
type webConn struct {
	net.Conn
	in      io.Reader
	release func()
	once    sync.Once
}

func (c *webConn) Read(p []byte) (int, error) { return c.in.Read(p) }

func (c *webConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// readHead reads a request head from r (a headReader, which bounds it)
// up to its blank line, and reports whether it asks for a WebSocket
// upgrade: a GET with an Upgrade header naming websocket. head holds every
// byte read, the head and whatever followed it in the same reads.
func readHead(r io.Reader) (head []byte, upgrade bool, err error) {
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if end := headEnd(buf); end >= 0 {
			return buf, isUpgrade(buf[:end]), nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return buf, false, err
		}
	}
}

// headEnd returns where the blank line that ends a request head starts
// in b (CRLF or a bare LF line ends, as net/http accepts), or -1.
func headEnd(b []byte) int {
	for i := bytes.IndexByte(b, '\n'); i >= 0; {
		rest := b[i+1:]
		if len(rest) > 0 && rest[0] == '\n' || len(rest) > 1 && rest[0] == '\r' && rest[1] == '\n' {
			return i + 1
		}
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			return -1
		}
		i += 1 + j
	}
	return -1
}

// isUpgrade reports whether the request head h (without its blank line)
// is a GET whose Upgrade header names websocket.
func isUpgrade(h []byte) bool {
	line, rest, _ := bytes.Cut(h, []byte("\n"))
	if !bytes.HasPrefix(line, []byte("GET ")) {
		return false
	}
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Upgrade")) {
			for _, v := range bytes.Split(value, []byte(",")) {
				if bytes.EqualFold(bytes.TrimSpace(v), []byte("websocket")) {
					return true
				}
			}
		}
	}
	return false
}
