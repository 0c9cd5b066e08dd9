package wsconn

import (
	"crypto/tls"
	"errors"
	"io"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// lingerTimeout bounds how long a closing connection waits for the peer's
// answer to its close frame.
const lingerTimeout = time.Second

// connection states, guarded by Conn.mu.
const (
	stateOpen    = iota
	stateClosing // close frame queued; no more reads
	stateClosed  // socket closed
)

// Handler is what a connection's messages and end go to. Its methods run
// with no lock of the transport held.
type Handler interface {
	// HandleMessage handles one complete data message (ws.OpText or
	// ws.OpBinary), unmasked, fragments joined. It runs on w, the worker
	// serving the connection; payload is borrowed and valid only until it
	// returns. It returns false when it closed the connection, so that no
	// further frame of this read is handled.
	HandleMessage(w *Worker, op ws.OpCode, payload []byte) bool
	// ConnClosing runs once, when the connection stops reading: its close
	// handshake started or it was aborted. No message is handled after.
	ConnClosing()
	// ConnClosed runs once, after the socket is closed, and after
	// ConnClosing.
	ConnClosed()
}

// outFrame is one queued write: either a pooled buffer of the connection's
// own frames (own), or a frame shared with other receivers, never written to.
type outFrame struct {
	b   []byte
	own bool
}

// Conn is one WebSocket connection of a Transport: the socket, the read
// state machine run by one worker at a time, and the write queue. Every
// idle session holds one, so it keeps only what an idle connection needs
// (TestIdleStructSizes in package router holds its size): a flusher's
// scratch is borrowed per flush, a fragmented message's state is
// allocated when one starts, and the client's address is the handler's.
type Conn struct {
	t *Transport
	h Handler
	// nc is the socket until Detach, which closes it and keeps only the
	// descriptor fd (then nil); always for a TLS connection.
	nc net.Conn
	// tc is a TLS connection's TLS layer, over a *tlsTransport that reads
	// tc's socket without blocking once the connection has started
	// (tls.go); nil without TLS.
	tc *tls.Conn

	limit limiter // the connection's rate-limit state

	// Read side, owned by the worker running onReadable (EPOLLONESHOT
	// guarantees there is one at a time). part holds the bytes of a frame
	// not yet whole (need says more); frag is the message being joined
	// from fragments, nil between messages.
	part []byte
	frag *fragment

	held     atomic.Int64 // bytes queued and not yet written (HeldBytes)
	lastRead atomic.Int64 // unix nanoseconds of the last read
	pingSent atomic.Int64 // unix nanoseconds of an unanswered ping, or 0
	// fdRefs counts the system calls using a detached descriptor, with
	// fdClosedBit set once it is closed (rawfd_linux.go).
	fdRefs atomic.Int64

	// The small fields sit together, whatever guards them, so that an idle
	// connection's struct stays small.
	fd int32
	// need is the whole length of a frame being read straight into part
	// (larger than a worker's buffer), else 0; read side.
	need    int32
	reading atomic.Bool // a worker is in onReadable
	partial atomic.Bool // an incomplete frame or message is held (FrameTimeout)
	state   uint8       // guarded by mu
	// Guarded by wmu. flushing: someone owns writing the queue, either a
	// Batch that holds the connection once, or a flusher goroutine.
	// Frames queued meanwhile are left to it.
	flushing   bool
	wclosed    bool // no more frames are accepted
	closeAfter bool // close the socket once the queue is written
	slow       bool // counted as a slow consumer (markSlow, Shed)
	detached   bool // set once by DetachFD, before the connection is shared
	// rbytes and wbytes count the WebSocket bytes read and written
	// (BytesRead, BytesWritten), saturating at math.MaxUint32.
	rbytes, wbytes atomic.Uint32

	mu  sync.Mutex // guards state and the poller registration
	wmu sync.Mutex // guards the write queue and the flags above it

	wq      []outFrame
	wspare  []outFrame
	wqBytes int
}

// fragment is a message being joined from its fragments (read side).
type fragment struct {
	b  []byte
	op ws.OpCode // the opcode of its first frame
}

// ClientIPer is what a Handler may also be: ClientIP names the client in
// the transport's logs and in Conn.ClientIP.
type ClientIPer interface {
	ClientIP() netip.Addr
}

// NewConn takes nc, an accepted TCP connection (or any net.Conn with a
// file descriptor), for the handshake, with h as its handler; Start then
// hands it to the poller. From here on the handler learns of its end
// (ConnClosing, ConnClosed) whichever way it ends, through Close or Abort.
func (t *Transport) NewConn(nc net.Conn, h Handler) (*Conn, error) {
	if err := t.init(); err != nil {
		return nil, err
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, errors.New("wsconn: connection has no file descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	c := &Conn{t: t, h: h, nc: nc}
	if err := rc.Control(func(fd uintptr) { c.fd = int32(fd) }); err != nil {
		return nil, err
	}
	c.lastRead.Store(time.Now().UnixNano())
	return c, nil
}

// HandshakeIO is what the handshake reads and writes: the socket, or its
// TLS layer after StartTLS. It blocks, under the deadline the caller sets
// on NetConn. A connection that is not started may be given up for good
// to whoever takes HandshakeIO (an HTTP server, say): the Conn is then
// simply dropped, never closed.
func (c *Conn) HandshakeIO() net.Conn {
	if c.tc != nil {
		return c.tc
	}
	return c.nc
}

// NetConn returns the connection's socket, or nil once Detach has taken
// its descriptor. Reading it or writing it after Start would break the
// connection: it is for addresses and deadlines during the handshake.
func (c *Conn) NetConn() net.Conn { return c.nc }

// rawConn returns the syscall.RawConn of a connection that is not
// detached.
func (c *Conn) rawConn() (syscall.RawConn, error) {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return nil, errors.New("wsconn: connection has no file descriptor")
	}
	return sc.SyscallConn()
}

// Start starts reading the connection: the rate-limit buckets fill, the socket goes to the poller, and a TLS
// connection is read once at once (crypto/tls may already hold frames
// that came with the upgrade request). A connection closed before Start
// (by a write that failed, say) is not registered. An error means the
// poller refused the socket: the caller should Abort.
func (c *Conn) Start() error {
	c.limit.start(&c.t.rates, time.Now().UnixNano())
	c.mu.Lock()
	if c.tc != nil {
		c.tc.NetConn().(*tlsTransport).nonblock = true
	}
	var err error
	if c.state == stateOpen {
		err = c.t.poller.add(c)
	}
	c.mu.Unlock()
	if err == nil && c.tc != nil {
		c.t.pool.schedule(c)
	}
	return err
}

// Closing reports whether the connection no longer reads.
func (c *Conn) Closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state != stateOpen
}

// Close starts the closing handshake: the queued frames are written, then
// a close frame with code and reason, then the socket is closed. The
// handler's ConnClosing runs at once; nothing more is read.
func (c *Conn) Close(code ws.StatusCode, reason string) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosing
	c.t.poller.remove(c)
	c.mu.Unlock()
	c.t.log.Debug("session closing", "session", c.h, "client", c.ClientIP(), "code", int(code), "reason", reason)
	c.h.ConnClosing()

	frame := AppendControl(nil, ws.OpClose, closePayload(uint16(code), reason))
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
		go c.flush(nil, 0)
	}
}

// Abort closes the socket at once, dropping whatever is queued.
func (c *Conn) Abort() {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	wasOpen := c.state == stateOpen
	if wasOpen {
		c.t.poller.remove(c)
	}
	c.state = stateClosed
	c.closeSocket()
	c.mu.Unlock()

	if wasOpen {
		c.h.ConnClosing()
	}
	if c.reading.CompareAndSwap(false, true) {
		// No worker reads, and none will (the state is closed): the
		// read side is ours to let go.
		c.dropInput()
	}
	c.wmu.Lock()
	c.wclosed = true
	if !c.flushing {
		c.releaseQueue(c.wq)
		c.wq = nil
	}
	c.wqBytes = 0
	c.wmu.Unlock()
	// The close hooks may block: if the poller's own goroutine is
	// reading, possibly this one, someone else waits for readiness.
	c.t.poller.handoff()
	c.h.ConnClosed()
}

// finishClose ends a close handshake whose close frame is written: it
// half-closes the socket, waits briefly for the peer to close its side (so
// the peer reads the close frame rather than a reset) and closes it.
func (c *Conn) finishClose() {
	if c.tc != nil {
		c.tc.CloseWrite() // close_notify; the TCP half-close follows
	}
	if nc, own, err := c.blockingConn(); err == nil {
		if tc, ok := nc.(interface{ CloseWrite() error }); ok {
			tc.CloseWrite()
		}
		nc.SetReadDeadline(time.Now().Add(lingerTimeout))
		io.Copy(io.Discard, io.LimitReader(nc, int64(c.t.cfg.MaxMessageSize)+bufSize))
		if own {
			nc.Close()
		}
	}
	c.Abort()
}

// pingFrame is the server's ping: empty, unmasked. It is queued shared
// (WriteShared) and never written to.
var pingFrame = []byte{0x80 | byte(ws.OpPing), 0}

// Keepalive closes a connection that has held an incomplete frame or
// message for FrameTimeout without sending more of it (1008), pings one
// that has sent nothing for interval, and closes one that has left a ping
// unanswered, by any frame, for timeout (1001). A zero interval sends no
// pings. now is in unix nanoseconds. The ping is queued on l, which the
// caller flushes (so that one sweep's pings leave in one Batch, without a
// goroutine per connection), or, with a nil l, on a flusher goroutine. One
// goroutine (a sweeper) calls it.
func (c *Conn) Keepalive(l *Batch, now int64, interval, timeout time.Duration) {
	if c.Closing() {
		return
	}
	last, sent := c.lastRead.Load(), c.pingSent.Load()
	if ft := c.t.cfg.FrameTimeout; ft > 0 && c.partial.Load() && now-last > int64(ft) {
		c.t.stats.stalled.Add(1)
		c.t.log.Info("closing session: incomplete message stalled", "session", c.h,
			"client", c.ClientIP(), "frame_timeout", ft)
		c.Close(ws.StatusPolicyViolation, "incomplete message timed out")
		return
	}
	if interval <= 0 {
		return
	}
	switch {
	case sent != 0 && last > sent:
		c.pingSent.Store(0)
	case sent != 0 && now-sent > int64(timeout):
		c.t.stats.pingTimeouts.Add(1)
		c.t.log.Info("closing dead session: no answer to ping", "session", c.h, "client", c.ClientIP())
		c.Close(ws.StatusGoingAway, "ping timeout")
	case sent == 0 && now-last > int64(interval):
		c.pingSent.Store(now)
		c.WriteShared(l, pingFrame)
	}
}

// QueuedBytes reports the bytes waiting in the write queue that no
// flusher has taken yet, the quantity MaxQueueBytes bounds.
func (c *Conn) QueuedBytes() int {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.wqBytes
}

// BytesRead reports the WebSocket bytes read from the connection since it
// started (frames as sent, TLS records decrypted), and BytesWritten those
// written to it (the upgrade response is not counted). Both saturate at
// math.MaxUint32 (4 GiB): a connection past it reports that. Any goroutine
// may call them; the final counts are there when the handler's ConnClosed
// runs.
func (c *Conn) BytesRead() uint64 { return uint64(c.rbytes.Load()) }

// BytesWritten: see BytesRead.
func (c *Conn) BytesWritten() uint64 { return uint64(c.wbytes.Load()) }

// addBytes adds n to the saturating counter a.
func addBytes(a *atomic.Uint32, n int) {
	if n <= 0 {
		return
	}
	for {
		v := a.Load()
		s := min(uint64(v)+uint64(n), math.MaxUint32)
		if uint64(v) == s || a.CompareAndSwap(v, uint32(s)) {
			return
		}
	}
}

// ClientIP returns the client's address, as the handler's ClientIP method
// (ClientIPer) says, or the zero Addr when the handler has none.
func (c *Conn) ClientIP() netip.Addr {
	if h, ok := c.h.(ClientIPer); ok {
		return h.ClientIP()
	}
	return netip.Addr{}
}

// Attach makes a Conn of nc, a connection without a file descriptor (an
// in-memory pipe, a test double), with h as its handler. It is never
// polled and never read: only its write side works, through nc.Write on
// a flusher goroutine.
func (t *Transport) Attach(nc net.Conn, h Handler) *Conn {
	t.init() // Close and Abort unregister from the poller, which must exist
	c := &Conn{t: t, h: h, nc: nc, fd: -1}
	c.lastRead.Store(time.Now().UnixNano())
	return c
}

// Idle reports whether nothing is queued to the connection and nobody is
// writing to it.
func (c *Conn) Idle() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return !c.flushing && len(c.wq) == 0
}
