package router

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/protocol"
)

const (
	// bufSize is the size of the pooled read and write buffers. A
	// connection borrows a read buffer only while a frame is partly
	// received, so an idle connection holds none.
	bufSize = 4096
	// readBudget bounds the bytes one worker reads from one connection per
	// notification, so a fast sender cannot monopolize a worker.
	readBudget = 256 << 10
	// lingerTimeout bounds how long a closing connection waits for the
	// peer's answer to its close frame.
	lingerTimeout = time.Second
)

// connection states, guarded by conn.mu.
const (
	stateOpen    = iota
	stateClosing // close frame queued; no more reads
	stateClosed  // socket closed
)

// outFrame is one queued write: either a pooled buffer of the connection's
// own frames (own), or a frame shared with other receivers, never written to.
type outFrame struct {
	b   []byte
	own bool
}

// conn is the transport of one session: the socket, the read state machine
// run by one worker at a time, and the write queue.
type conn struct {
	srv  *Server
	nc   net.Conn
	rc   syscall.RawConn
	fd   int
	sess *Session

	// TLS connections only: tc is the session's TLS connection, over tr,
	// the transport that reads tc's socket without blocking once the
	// session is established (tls.go).
	tc *tls.Conn
	tr *tlsTransport

	clientIP netip.Addr // Request.ClientIP, set during the upgrade
	limit    limiter    // the session's rate-limit state (Server.rates)

	readTask func(*worker)      // c.onReadable, bound once
	readFn   func(uintptr) bool // c.rawRead, bound once
	flushFn  func()             // c.flush, bound once: `go c.flushFn()` allocates nothing

	// Read side, owned by the worker running onReadable (EPOLLONESHOT
	// guarantees there is one at a time); fragging below too.
	rbuf []byte
	rlen int
	rn   int
	rerr error
	frag []byte

	lastRead atomic.Int64 // unix nanoseconds of the last read notification
	pingSent atomic.Int64 // unix nanoseconds of an unanswered ping, or 0

	// The small fields sit together, whatever guards them, so that an idle
	// connection's struct stays in its size class (bench/RESULTS.md, "Idle
	// sessions").
	reading  atomic.Bool // a worker is in onReadable
	slow     atomic.Bool // counted as a slow consumer
	slot     atomic.Bool // holds a connection slot (Options.MaxConns)
	fragging bool        // read side
	state    uint8       // guarded by mu
	// Guarded by wmu. flushing: someone owns writing the queue, either a
	// flush list (a worker's, or a server-side Publish's) that holds the
	// connection once, or a flusher goroutine. Frames queued meanwhile are
	// left to it.
	flushing   bool
	wclosed    bool // no more frames are accepted
	closeAfter bool // close the socket once the queue is written

	mu  sync.Mutex // guards state and the poller registration
	wmu sync.Mutex // guards the write queue and the flags above it

	wq      []outFrame
	wspare  []outFrame
	wqBytes int

	// batch and boff belong to the flusher: a batch that a non-blocking
	// write left half written, and the bytes of it already written, handed
	// from flushNow to the flusher goroutine. iov and iovw are the
	// goroutine's buffers, and the copy of them that writev consumes.
	batch     []outFrame
	boff      int
	iov, iovw net.Buffers
}

func newConn(srv *Server, nc net.Conn) (*conn, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, errors.New("router: connection has no file descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	c := &conn{srv: srv, nc: nc, rc: rc}
	if err := rc.Control(func(fd uintptr) { c.fd = int(fd) }); err != nil {
		return nil, err
	}
	c.readTask = c.onReadable
	c.readFn = c.rawRead
	c.flushFn = c.flush
	c.lastRead.Store(time.Now().UnixNano())
	return c, nil
}

// rawRead is a non-blocking read(2) into the free part of rbuf; returning
// true tells the runtime not to wait for readability.
func (c *conn) rawRead(fd uintptr) bool {
	for {
		c.rn, c.rerr = syscall.Read(int(fd), c.rbuf[c.rlen:])
		if c.rerr != syscall.EINTR {
			return true
		}
	}
}

// onReadable runs on a worker after the poller saw the socket readable. It
// reads what is there, handles every complete frame in place and re-arms
// the poller. Between notifications the connection keeps a read buffer only
// if a frame is partly received.
func (c *conn) onReadable(w *worker) {
	// EPOLLONESHOT already gives one worker at a time; the flag also drops
	// a stale notification that easygo could deliver for a reused
	// descriptor number while this connection is being served.
	if !c.reading.CompareAndSwap(false, true) {
		return
	}
	if c.closing() {
		c.reading.Store(false)
		return
	}
	now := time.Now().UnixNano()
	c.lastRead.Store(now)
	if c.srv.rates.on() {
		c.limit.refill(&c.srv.rates, now)
	}
	c.sess.w = w
	ok, more := c.readAvailable(w)
	c.sess.w = nil
	// The end of the read batch: write what it queued, one writev per
	// receiver (and the replies to this connection).
	w.pend.flush()
	if !ok {
		c.reading.Store(false)
		return
	}
	if c.rlen == 0 {
		c.srv.bufs.put(c.rbuf)
		c.rbuf = nil
	}
	// c.mu orders this worker's writes to the read state before the next
	// worker's reads: that one starts with closing(), under c.mu.
	c.mu.Lock()
	c.reading.Store(false)
	if c.state == stateOpen && more {
		// A TLS connection stopped by readBudget may hold decrypted
		// bytes the poller cannot see: come back after the others.
		go c.srv.pool.schedule(c.readTask)
	} else if c.state == stateOpen {
		if err := c.srv.poller.rearm(c); err != nil {
			c.mu.Unlock()
			c.abort()
			return
		}
	}
	c.mu.Unlock()
}

// readAvailable reads and handles what the socket holds, up to
// readBudget bytes; ok is false when the connection is closing. more
// reports a TLS connection stopped by the budget before it saw the socket
// empty: crypto/tls may hold more that the poller will not report.
func (c *conn) readAvailable(w *worker) (ok, more bool) {
	for budget := c.srv.readBudget; budget > 0; {
		if c.rbuf == nil {
			c.rbuf = c.srv.bufs.get()
		}
		n, err := c.read()
		if n > 0 {
			c.rlen += n
			budget -= n
			if c.srv.rates.bytesOn && !take(&c.limit.bytes, int64(n)) {
				c.rateLimited("bytes", c.srv.opts.ByteRate)
				return false, false
			}
			if !c.processFrames(w) {
				return false, false
			}
		}
		if err == syscall.EAGAIN {
			return true, false
		}
		if err != nil || n == 0 {
			// Reset by the peer or EOF: the peer is gone.
			c.abort()
			return false, false
		}
	}
	return true, c.tc != nil
}

// read reads once from the socket, or through TLS, into the free part of
// rbuf, without blocking: syscall.EAGAIN when nothing is there, (0, nil)
// or an error when the peer is gone.
func (c *conn) read() (int, error) {
	if c.tc != nil {
		return c.readTLS()
	}
	if err := c.rc.Read(c.readFn); err != nil {
		return 0, err
	}
	return max(c.rn, 0), c.rerr
}

// processFrames handles the complete frames in rbuf[:rlen], keeps an
// incomplete one at the start of rbuf and grows rbuf if that frame needs
// more room. It reports false when the connection is closing.
func (c *conn) processFrames(w *worker) bool {
	off, need := 0, 0
	for {
		b := c.rbuf[off:c.rlen]
		hl := headerLen(b)
		if hl == 0 || len(b) < hl {
			need = max(hl, 2)
			break
		}
		w.br.Reset(b[:hl])
		h, err := ws.ReadHeaderBuffer(&w.br, w.hdr[:])
		if err != nil {
			c.fail(protocol.CloseProtocolError, "bad frame header")
			return false
		}
		if code, reason := c.checkHeader(h); code != 0 {
			if code == protocol.CloseMessageTooBig {
				c.srv.stats.tooBig.Add(1)
			}
			c.fail(code, reason)
			return false
		}
		total := hl + int(h.Length)
		if len(b) < total {
			need = total
			break
		}
		payload := b[hl:total]
		ws.Cipher(payload, h.Mask, 0)
		off += total
		if !c.handleFrame(w, h, payload) {
			return false
		}
		if w.pend.due() {
			w.pend.flush()
		}
	}
	if off > 0 {
		c.rlen = copy(c.rbuf, c.rbuf[off:c.rlen])
	}
	if need > len(c.rbuf) {
		// A frame larger than the pooled buffer: it is below the size
		// limit (checkHeader), so give it exactly the room it needs.
		nb := make([]byte, need)
		copy(nb, c.rbuf[:c.rlen])
		c.srv.bufs.put(c.rbuf)
		c.rbuf = nb
	}
	return true
}

// checkHeader applies RFC 6455 §5 and the message size limit to a client
// frame header; it returns a close code and reason, or 0.
func (c *conn) checkHeader(h ws.Header) (protocol.CloseCode, string) {
	switch {
	case h.Rsv != 0:
		return protocol.CloseProtocolError, "reserved bits set: no extension was negotiated"
	case !h.Masked:
		return protocol.CloseProtocolError, "client frames must be masked"
	case h.OpCode.IsControl() && (!h.Fin || h.Length > 125):
		return protocol.CloseProtocolError, "control frames must be unfragmented and at most 125 bytes"
	case h.OpCode.IsReserved():
		return protocol.CloseProtocolError, "reserved opcode"
	case h.OpCode.IsData() && h.Length > int64(c.srv.opts.MaxMessageSize),
		h.OpCode == ws.OpContinuation && int64(len(c.frag))+h.Length > int64(c.srv.opts.MaxMessageSize):
		return protocol.CloseMessageTooBig, "message too big"
	}
	return 0, ""
}

// handleFrame handles one whole frame whose payload is unmasked in place.
func (c *conn) handleFrame(w *worker, h ws.Header, payload []byte) bool {
	if c.srv.rates.msgsOn && !take(&c.limit.msgs, 1) {
		c.rateLimited("messages", c.srv.opts.MessageRate)
		return false
	}
	switch h.OpCode {
	case ws.OpText, ws.OpBinary:
		if c.fragging {
			c.fail(protocol.CloseProtocolError, "data frame inside a fragmented message")
			return false
		}
		if h.OpCode == ws.OpBinary {
			c.fail(protocol.CloseUnsupportedData, "binary frames are not supported: WAMP v1 is text")
			return false
		}
		if !h.Fin {
			c.fragging = true
			c.frag = append(c.frag[:0], payload...)
			return true
		}
		return c.handleMessage(w, payload)
	case ws.OpContinuation:
		if !c.fragging {
			c.fail(protocol.CloseProtocolError, "continuation frame without a message")
			return false
		}
		c.frag = append(c.frag, payload...)
		if !h.Fin {
			return true
		}
		msg := c.frag
		c.frag, c.fragging = nil, false
		return c.handleMessage(w, msg)
	case ws.OpPing:
		c.writeControl(ws.OpPong, payload)
		return true
	case ws.OpPong:
		c.pingSent.Store(0)
		return true
	case ws.OpClose:
		c.onCloseFrame(payload)
		return false
	}
	c.fail(protocol.CloseProtocolError, "unknown opcode")
	return false
}

// handleMessage decodes one WAMP message and dispatches it, or hands a
// plain tag connection's request to handlePlain.
func (c *conn) handleMessage(w *worker, payload []byte) bool {
	c.srv.stats.messagesIn.Add(1)
	if c.sess.plain {
		return c.handlePlain(w, payload)
	}
	if err := w.dec.Decode(payload, &w.msg); err != nil {
		c.violation(err)
		return false
	}
	if err := c.srv.dispatch(c.sess, &w.msg); err != nil {
		c.violation(err)
		return false
	}
	return !c.closing()
}

// onCloseFrame answers the peer's close handshake (RFC 6455 §5.5.1).
func (c *conn) onCloseFrame(p []byte) {
	switch {
	case len(p) == 0:
		c.closeWith(protocol.CloseNormal, "")
	case len(p) == 1:
		c.fail(protocol.CloseProtocolError, "close frame with a one-byte body")
	default:
		code := uint16(p[0])<<8 | uint16(p[1])
		switch {
		case !validCloseCode(code):
			c.fail(protocol.CloseProtocolError, "invalid close code")
		case !utf8.Valid(p[2:]):
			c.fail(protocol.CloseInvalidPayload, "close reason is not UTF-8")
		default:
			c.closeWith(protocol.CloseCode(code), "")
		}
	}
}

func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// violation closes the session for a bad message, with the close code the
// error maps to (wamp1.md §3), and logs it with the session id.
func (c *conn) violation(err error) {
	c.srv.stats.protocolErrors.Add(1)
	code := protocol.CloseCodeOf(err)
	c.srv.log.Info("closing session: protocol violation",
		"session", c.sess.id, "client", c.clientIP, "code", int(code), "err", err)
	c.closeWith(code, protocol.Reason(err))
}

// fail closes the session for a transport-level violation.
func (c *conn) fail(code protocol.CloseCode, reason string) {
	c.srv.stats.protocolErrors.Add(1)
	c.srv.log.Info("closing session: bad frame",
		"session", c.sess.id, "client", c.clientIP, "code", int(code), "reason", reason)
	c.closeWith(code, reason)
}

// closing reports whether the connection no longer reads.
func (c *conn) closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state != stateOpen
}

// closeWith starts the closing handshake: the queued frames are written,
// then a close frame, then the socket is closed. The session leaves the tag
// index at once, so nothing more is queued for it.
func (c *conn) closeWith(code protocol.CloseCode, reason string) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosing
	c.srv.poller.remove(c)
	c.mu.Unlock()
	c.sess.detach()

	frame := appendControl(nil, ws.OpClose, closePayload(uint16(code), reason))
	c.wmu.Lock()
	if c.wclosed {
		c.wmu.Unlock()
		return
	}
	c.wclosed, c.closeAfter = true, true
	c.wq = append(c.wq, outFrame{b: frame})
	start := !c.flushing
	c.flushing = true
	c.wmu.Unlock()
	if start {
		go c.flushFn()
	}
}

// abort closes the socket at once, dropping whatever is queued.
func (c *conn) abort() {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	if c.state == stateOpen {
		c.srv.poller.remove(c)
	}
	c.state = stateClosed
	c.nc.Close()
	c.mu.Unlock()

	c.sess.detach()
	c.wmu.Lock()
	c.wclosed = true
	if !c.flushing {
		c.releaseQueue(c.wq)
		c.wq = nil
	}
	c.wqBytes = 0
	c.wmu.Unlock()
	c.releaseSlot()
	if c.srv.unregister(c) && len(c.srv.opts.SessionHooks) > 0 {
		s := c.sess
		s.hookMu.Lock() // after the SessionOpened hooks, never during
		for _, h := range c.srv.opts.SessionHooks {
			h.SessionClosed(s)
		}
		s.hookMu.Unlock()
	}
}

// finishClose ends a close handshake whose close frame is written: it
// half-closes the socket, waits briefly for the peer to close its side (so
// the peer reads the close frame rather than a reset) and closes it.
func (c *conn) finishClose() {
	if c.tc != nil {
		c.tc.CloseWrite() // close_notify; the TCP half-close follows
	}
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.Copy(io.Discard, io.LimitReader(c.nc, int64(c.srv.opts.MaxMessageSize)+bufSize))
	c.abort()
}
