package wsconn

import (
	"errors"
	"fmt"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// rawRead is a non-blocking read(2) into w.rp; returning true tells the
// runtime not to wait for readability. It is w.readFn, bound once, so that
// a read allocates nothing and a connection keeps no read scratch.
func (w *Worker) rawRead(fd uintptr) bool {
	for {
		w.rn, w.rerr = rawRead(int(fd), w.rp)
		if w.rerr != syscall.EINTR {
			return true
		}
	}
}

// coalesceFrames is how many frames an event's Batch must hold for a short
// read not to end the event: below it (a call's answer, a publication to
// a few receivers) the read that would only say EAGAIN is saved; from it
// on (a fan-out, which takes long enough for the next messages to
// arrive) the socket is read again before the flush, so that one write
// per receiver carries several publications (bench/RESULTS.md, "The
// standard suite before and after issue 13").
const coalesceFrames = 32

// leadFrames is how many frames the poller's own goroutine handles in one
// event before it hands the waiting for readiness off (Worker.Handoff).
const leadFrames = 16

// run is the pool's task of a connection: onReadable.
func (c *Conn) run(w *Worker) { c.onReadable(w) }

// onReadable runs on a worker after the poller saw the socket readable. It
// reads what is there, hands every complete message to the handler and
// re-arms the poller. Between events the connection keeps a buffer only
// for a frame that is partly received.
func (c *Conn) onReadable(w *Worker) {
	// EPOLLONESHOT already gives one worker at a time; the flag also drops
	// a stale notification that the poller could deliver for a reused
	// descriptor number while this connection is being served.
	if !c.reading.CompareAndSwap(false, true) {
		return
	}
	if c.Closing() {
		c.reading.Store(false)
		return
	}
	if c.t.rates.on() {
		c.limit.refill(&c.t.rates, time.Now().UnixNano())
	}
	ok, more := c.readAvailable(w)
	c.partial.Store(len(c.part) > 0 || c.frag != nil)
	if w.buf != nil {
		c.t.readBufs.Put((*[ReadBufferSize]byte)(w.buf))
		w.buf = nil
	}
	// The end of the event: write what it queued, one writev per receiver
	// (and the replies to this connection).
	w.Batch.Flush()
	if !ok {
		c.dropInput()
		c.reading.Store(false)
		return
	}
	c.releasePart()
	// c.mu orders this worker's writes to the read state before the next
	// worker's reads: that one starts with Closing(), under c.mu.
	c.mu.Lock()
	c.reading.Store(false)
	if c.state == stateOpen && more {
		// A TLS connection stopped by its budget may hold decrypted
		// bytes the poller cannot see: come back after the others.
		go c.t.pool.schedule(c)
	} else if c.state == stateOpen {
		if err := c.t.poller.rearm(c); err != nil {
			c.mu.Unlock()
			c.Abort()
			return
		}
	}
	c.mu.Unlock()
}

// readAvailable reads and handles what the socket holds, up to the read
// budget; ok is false when the connection is closing. more reports a TLS
// connection stopped by the budget before it saw the socket empty:
// crypto/tls may hold more that the poller will not report.
func (c *Conn) readAvailable(w *Worker) (ok, more bool) {
	for budget := c.t.readBudget; budget > 0; {
		if budget < c.t.readBudget {
			w.Handoff() // more than one read: others wait for the poller meanwhile
		}
		var n int
		var err error
		if c.need > 0 {
			n, err = c.readLarge(w)
		} else {
			n, err = c.readSmall(w)
		}
		budget -= n
		if n < 0 {
			return false, false // closed while handling
		}
		if err == errDrained && w.Batch.frames >= coalesceFrames {
			// The socket was emptied, but what it held queued many
			// frames (a fan-out): messages that arrived meanwhile are
			// read before the flush, so that their frames leave in the
			// same writes.
			err = nil
		}
		if err == syscall.EAGAIN || err == errDrained {
			// errDrained: a short read emptied the socket, and the read
			// that would say EAGAIN is saved. Bytes that arrive
			// meanwhile are not lost: re-arming the level-triggered
			// registration reports them at once.
			return true, false
		}
		if err != nil || n == 0 {
			// Reset by the peer or EOF: the peer is gone.
			c.Abort()
			return false, false
		}
	}
	return true, c.tc != nil
}

// readSmall reads into the worker's buffer, after the tail of a frame kept
// from the last read, and handles the complete frames there. The tail of
// an incomplete frame is copied to c.part; if that frame is larger than
// the worker's buffer, c.need says so and readLarge reads the rest. It
// returns the bytes read, or -1 when the connection is closing.
func (c *Conn) readSmall(w *Worker) (int, error) {
	if w.buf == nil {
		w.buf = c.t.readBufs.Get().(*[ReadBufferSize]byte)[:]
	}
	off := copy(w.buf, c.part)
	c.part = c.part[:0]
	n, err := c.read(w, w.buf[off:])
	if n > 0 && !c.charge(n) {
		return -1, nil
	}
	data := w.buf[:off+max(n, 0)]
	done, need, ok := c.processFrames(w, data)
	if !ok {
		return -1, nil
	}
	if tail := data[done:]; len(tail) > 0 && !c.keepTail(tail, need) {
		return -1, nil
	}
	return n, err
}

// keepTail copies the start of an incomplete frame, whose whole length is
// need (or unknown yet, 0), to c.part. It reports false when the bound on
// buffered input closed the connection instead.
func (c *Conn) keepTail(tail []byte, need int) bool {
	if need > ReadBufferSize {
		// Read the rest straight into a buffer of the frame's own,
		// grown as its bytes arrive (or the one of the large frame
		// before it in this event, when that is large enough).
		c.need = int32(need)
		if size := min(need, max(4*len(tail), largeFrameStep)); cap(c.part) < size {
			if !c.setPart(make([]byte, 0, size)) {
				return false
			}
		}
		c.part = append(c.part[:0], tail...)
		return true
	}
	// A short tail waits in a pooled buffer, a longer one in one of its
	// size; never in the large buffer of an earlier frame.
	switch {
	case len(tail) <= bufSize && cap(c.part) != bufSize:
		if !c.setPart(c.t.bufs.get()[:0]) {
			return false
		}
	case len(tail) > bufSize && (cap(c.part) < len(tail) || cap(c.part) > ReadBufferSize):
		if !c.setPart(make([]byte, 0, len(tail))) {
			return false
		}
	}
	c.part = append(c.part[:0], tail...)
	return true
}

// releasePart lets the read buffer of the connection go when it holds no
// partial frame: an idle connection keeps none.
func (c *Conn) releasePart() {
	if len(c.part) == 0 && c.part != nil {
		c.setPart(nil)
	}
}

// readLarge reads a frame larger than a worker's buffer into c.part,
// growing it by at most 4x, never past the frame's length, so that the
// memory a frame holds follows the bytes that arrived. When the frame
// is whole it is handled from there. It returns the bytes read, or -1 when
// the connection is closing.
func (c *Conn) readLarge(w *Worker) (int, error) {
	if len(c.part) == cap(c.part) {
		grown := make([]byte, len(c.part), min(int(c.need), 4*cap(c.part)))
		copy(grown, c.part)
		if !c.setPart(grown) {
			return -1, nil
		}
	}
	n, err := c.read(w, c.part[len(c.part):cap(c.part)])
	if n <= 0 {
		return n, err
	}
	c.part = c.part[:len(c.part)+n]
	if !c.charge(n) {
		return -1, nil
	}
	if len(c.part) == int(c.need) {
		frame := c.part
		c.need = 0
		if done, _, ok := c.processFrames(w, frame); !ok || done != len(frame) {
			return -1, nil
		}
		// Kept for a next large frame of this event; onReadable lets
		// it go when the event ends.
		c.part = frame[:0]
	}
	return n, err
}

// errDrained is read's answer, with the bytes it read, when the socket
// gave fewer than asked: it held no more at that moment, so the worker
// re-arms the poller rather than make a read(2) that would say EAGAIN.
// Re-arming a descriptor that has become readable since (EPOLL_CTL_MOD)
// reports it at once, so nothing waits.
var errDrained = errors.New("wsconn: socket drained")

// read reads once from the socket, or through TLS, into p, without
// blocking: syscall.EAGAIN when nothing is there, errDrained with what it
// read when that was less than p, (0, nil) or an error when the peer is
// gone.
func (c *Conn) read(w *Worker, p []byte) (int, error) {
	if c.tc != nil {
		n, err := c.readTLS(p)
		addBytes(&c.rbytes, n)
		return n, err
	}
	n, err := c.readFD(w, p)
	if n > 0 {
		c.lastRead.Store(time.Now().UnixNano())
		addBytes(&c.rbytes, n)
		if err == nil && n < len(p) {
			err = errDrained
		}
	}
	return max(n, 0), err
}

// readPolled is one non-blocking read(2) into p of a connection on Go's
// runtime poller (not detached), through its RawConn.
func (c *Conn) readPolled(w *Worker, p []byte) (int, error) {
	rc, err := c.rawConn()
	if err != nil {
		return 0, err
	}
	w.rp = p
	err = rc.Read(w.readFn)
	w.rp = nil
	if err != nil {
		return 0, err
	}
	return w.rn, w.rerr
}

// charge takes n bytes from the byte-rate bucket; false when it closed
// the connection for it.
func (c *Conn) charge(n int) bool {
	if c.t.rates.bytesOn && !take(&c.limit.bytes, int64(n)) {
		c.rateLimited("bytes", c.t.cfg.ByteRate)
		return false
	}
	return true
}

// processFrames handles the complete frames at the start of data and
// returns the bytes they took; need is the whole length of the incomplete
// frame after them, when its header is there (else 0). ok is false when
// the connection is closing.
func (c *Conn) processFrames(w *Worker, data []byte) (done, need int, ok bool) {
	frames := 0
	for {
		b := data[done:]
		hl := HeaderLen(b)
		if hl == 0 || len(b) < hl {
			return done, 0, true
		}
		w.br.Reset(b[:hl])
		h, err := ws.ReadHeaderBuffer(&w.br, w.hdr[:])
		if err != nil {
			c.Fail(ws.StatusProtocolError, "bad frame header")
			return done, 0, false
		}
		if code, reason := c.checkHeader(h); code != 0 {
			if code == ws.StatusMessageTooBig {
				c.t.stats.tooBig.Add(1)
			}
			c.Fail(code, reason)
			return done, 0, false
		}
		total := hl + int(h.Length)
		if len(b) < total {
			return done, total, true
		}
		payload := b[hl:total]
		ws.Cipher(payload, h.Mask, 0)
		done += total
		if !c.handleFrame(w, h, payload) {
			return done, 0, false
		}
		if frames++; frames == leadFrames {
			w.Handoff() // a long run: others wait for the poller meanwhile
		}
		if w.Batch.due() {
			w.Batch.Flush()
		}
	}
}

// checkHeader applies RFC 6455 §5 (with gobwas/ws's CheckHeader) and the
// message size limit to a client frame header; it returns a close code and
// reason, or 0.
func (c *Conn) checkHeader(h ws.Header) (ws.StatusCode, string) {
	state := ws.StateServerSide
	if c.frag != nil {
		state |= ws.StateFragmented
	}
	if err := ws.CheckHeader(h, state); err != nil {
		return ws.StatusProtocolError, headerReason(err)
	}
	if h.OpCode == ws.OpBinary && c.t.cfg.RefuseBinary != "" {
		return ws.StatusUnsupportedData, c.t.cfg.RefuseBinary
	}
	max := int64(c.t.cfg.MaxMessageSize)
	if h.OpCode.IsData() && h.Length > max ||
		h.OpCode == ws.OpContinuation && c.frag != nil && int64(len(c.frag.b))+h.Length > max {
		return ws.StatusMessageTooBig, "message too big"
	}
	return 0, ""
}

// headerReason is the close reason sent for a header CheckHeader refused.
func headerReason(err error) string {
	switch {
	case errors.Is(err, ws.ErrProtocolNonZeroRsv):
		return "reserved bits set: no extension was negotiated"
	case errors.Is(err, ws.ErrProtocolMaskRequired):
		return "client frames must be masked"
	case errors.Is(err, ws.ErrProtocolControlPayloadOverflow), errors.Is(err, ws.ErrProtocolControlNotFinal):
		return "control frames must be unfragmented and at most 125 bytes"
	case errors.Is(err, ws.ErrProtocolOpCodeReserved):
		return "reserved opcode"
	case errors.Is(err, ws.ErrProtocolContinuationExpected):
		return "data frame inside a fragmented message"
	case errors.Is(err, ws.ErrProtocolContinuationUnexpected):
		return "continuation frame without a message"
	}
	return err.Error()
}

// handleFrame handles one whole frame whose payload is unmasked in place.
func (c *Conn) handleFrame(w *Worker, h ws.Header, payload []byte) bool {
	if c.t.rates.msgsOn && !take(&c.limit.msgs, 1) {
		c.rateLimited("messages", c.t.cfg.MessageRate)
		return false
	}
	switch h.OpCode {
	case ws.OpText, ws.OpBinary:
		if !h.Fin {
			c.frag = &fragment{op: h.OpCode}
			return c.appendFrag(payload)
		}
		return c.h.HandleMessage(w, h.OpCode, payload)
	case ws.OpContinuation:
		if !c.appendFrag(payload) {
			return false
		}
		if !h.Fin {
			return true
		}
		f := c.frag
		c.frag = nil
		ok := c.h.HandleMessage(w, f.op, f.b)
		c.account(-cap(f.b))
		return ok
	case ws.OpPing:
		c.writeControl(&w.Batch, ws.OpPong, payload)
		return true
	case ws.OpPong:
		c.pingSent.Store(0)
		return true
	case ws.OpClose:
		c.onCloseFrame(payload)
		return false
	}
	c.Fail(ws.StatusProtocolError, "unknown opcode")
	return false
}

// onCloseFrame answers the peer's close handshake (RFC 6455 §5.5.1).
func (c *Conn) onCloseFrame(p []byte) {
	switch {
	case len(p) == 0:
		c.Close(ws.StatusNormalClosure, "")
	case len(p) == 1:
		c.Fail(ws.StatusProtocolError, "close frame with a one-byte body")
	default:
		code := uint16(p[0])<<8 | uint16(p[1])
		switch {
		case !validCloseCode(code):
			c.Fail(ws.StatusProtocolError, "invalid close code")
		case !utf8.Valid(p[2:]):
			c.Fail(ws.StatusInvalidFramePayloadData, "close reason is not UTF-8")
		default:
			c.Close(ws.StatusCode(code), "")
		}
	}
}

// validCloseCode reports whether a peer may send code (RFC 6455 §7.4 and
// the IANA registry): 1000-1003, 1007-1014, 3000-4999. See the package
// doc for why not ws.CheckCloseFrameData.
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// Fail closes the connection for input its handler cannot accept, counted
// in Stats.BadFrames and logged.
func (c *Conn) Fail(code ws.StatusCode, reason string) {
	c.t.stats.badFrames.Add(1)
	c.t.log.Info("closing session: bad frame",
		"session", c.h, "client", c.ClientIP(), "code", int(code), "reason", reason)
	c.Close(code, reason)
}

// rateLimited closes a connection that emptied a bucket.
func (c *Conn) rateLimited(what string, r RateLimit) {
	c.t.stats.rateLimited.Add(1)
	c.t.log.Warn("closing session: rate limit exceeded", "session", c.h,
		"client", c.ClientIP(), "limit", what, "per_second", r.PerSecond, "burst", r.Burst)
	c.Close(ws.StatusPolicyViolation, fmt.Sprintf("rate limit exceeded: more than %d %s per second", r.PerSecond, what))
}

// setPart makes b the connection's partial-frame buffer in place of
// c.part (whose bytes the caller has copied where it needs them), with
// the change in capacity accounted against MaxBufferedInput. It reports
// false, and closes the connection, when the bound would be passed.
func (c *Conn) setPart(b []byte) bool {
	if !c.account(cap(b) - cap(c.part)) {
		c.t.bufs.put(b)
		c.inputFull()
		return false
	}
	c.t.bufs.put(c.part)
	c.part = b
	return true
}

// appendFrag adds a fragment's payload to the message being joined,
// growing its buffer within MaxBufferedInput; false when it closed the
// connection for it.
func (c *Conn) appendFrag(p []byte) bool {
	f := c.frag
	if n := len(f.b) + len(p); n > cap(f.b) {
		size := min(max(n, 2*cap(f.b)), c.t.cfg.MaxMessageSize)
		if !c.account(size - cap(f.b)) {
			c.inputFull()
			return false
		}
		grown := make([]byte, len(f.b), size)
		copy(grown, f.b)
		f.b = grown
	}
	f.b = append(f.b, p...)
	return true
}

// account adds delta bytes to the input that connections hold between
// reads (partial frames, fragments being joined); it reports false, and
// adds nothing, when that would pass MaxBufferedInput.
func (c *Conn) account(delta int) bool {
	n := c.t.input.Add(int64(delta))
	if delta > 0 && c.t.cfg.MaxBufferedInput > 0 && n > int64(c.t.cfg.MaxBufferedInput) {
		c.t.input.Add(-int64(delta))
		return false
	}
	return true
}

// dropInput lets go of what the connection holds of its input, once it
// is closed.
func (c *Conn) dropInput() {
	held := cap(c.part)
	if c.frag != nil {
		held += cap(c.frag.b)
	}
	c.account(-held)
	c.t.bufs.put(c.part)
	c.part, c.frag, c.need = nil, nil, 0
}

// inputFull closes a connection whose input would pass MaxBufferedInput.
func (c *Conn) inputFull() {
	c.t.stats.inputShed.Add(1)
	c.t.log.Warn("closing session: server input buffers are full", "session", c.h,
		"client", c.ClientIP(), "max_buffered_input", c.t.cfg.MaxBufferedInput)
	c.Close(ws.StatusPolicyViolation, "server input buffers are full: retry later")
}
