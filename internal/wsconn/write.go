package wsconn

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/gobwas/ws"
)

// flushAfterFrames bounds the frames a Batch gathers before its owner
// flushes it in the middle of a readiness event, so that an event of many
// publications to many receivers still sends the first ones early. Below
// it, the frames of one event to one receiver leave in one writev. A
// writev (with the wakeup of its reader) costs far more than a queued
// frame, so the bound is large (bench/RESULTS.md, "router over real
// loopback sockets: the write path").
const flushAfterFrames = 1 << 17

// parallelFlushMin is the least number of connections for each goroutine
// of a split flush (Batch.Flush).
const parallelFlushMin = 256

// maxFlushRounds bounds the writevs a Batch's owner makes for one
// connection that other goroutines keep queuing to; past it a flusher
// goroutine takes over, so one busy receiver cannot hold a worker.
const maxFlushRounds = 4

// Batch is the set of connections whose queues one goroutine (a worker
// serving a readiness event, or any goroutine that publishes) has queued
// frames to and will flush itself, once each, with a non-blocking writev:
// the shape of nats-server's flushClients. A connection is on at most one
// Batch or has one flusher goroutine at a time (Conn.flushing), so a Batch
// holds each connection once. The zero value is empty and ready; a Batch
// belongs to one goroutine and is not safe for concurrent use.
type Batch struct {
	conns  []*Conn
	frames int  // frames queued through the list since its last flush
	full   bool // a connection on the list holds over a quarter of MaxQueueBytes
	helper bool // the part of a split flush: never split again
	// timed is the transport whose Config.ObserveQueueDelay is told how
	// long this Batch's frames waited, or nil; since is when its first
	// connection was put on it (Transport.clock).
	timed *Transport
	since int64

	// Release makes the flush let go of the queue arrays of the
	// connections it empties, rather than keep them for their next
	// frames: for rare writes (pings) to connections that are otherwise
	// idle, so that an idle connection holds no queue array.
	Release bool

	// Scratch of the non-blocking write (write_linux.go), of the write to
	// a connection without a descriptor and of a flusher goroutine (which
	// borrows a Batch), reused for every connection the list flushes.
	wscratch
	bufs, bufw net.Buffers
	frames1    []outFrame
	// bc is a flusher goroutine's net.Conn over a duplicate of a detached
	// connection's descriptor, made when a write must wait (blockingConn).
	bc net.Conn
}

// due reports whether the Batch should be flushed before the readiness
// event ends: too many frames wait, or one receiver's queue grows large.
func (l *Batch) due() bool { return l.frames >= flushAfterFrames || l.full }

// Flush writes the queue of every connection in the Batch without waiting:
// what a socket does not take at once is left to a flusher goroutine. A
// long list is split among up to GOMAXPROCS goroutines, so that the writevs
// of one publication to many receivers use every core.
func (l *Batch) Flush() {
	if n := len(l.conns); n >= 2*parallelFlushMin && !l.helper {
		t := l.conns[0].t
		parts := min(runtime.GOMAXPROCS(0), n/parallelFlushMin)
		for p := 1; p < parts; p++ {
			h, _ := t.flushers.Get().(*Batch)
			if h == nil {
				h = &Batch{helper: true}
			}
			h.Release = l.Release
			h.conns = append(h.conns, l.conns[n*p/parts:n*(p+1)/parts]...)
			h.timed, h.since = l.timed, l.since
			go h.flushFor(t)
		}
		clear(l.conns[n/parts:])
		l.conns = l.conns[:n/parts]
	}
	l.flushConns()
	l.conns = l.conns[:0]
	l.frames, l.full = 0, false
	if t := l.timed; t != nil {
		// One clock read per flush: how long the oldest frame waited
		// until the last writev of the flush was done.
		t.cfg.ObserveQueueDelay(time.Duration(t.clock() - l.since))
		l.timed = nil
	}
}

// flushEach flushes the connections of the list one by one, each with
// its own writevs (flushNow), and empties the list's slots.
func (l *Batch) flushEach(conns []*Conn) {
	for i := range conns {
		c := conns[i]
		conns[i] = nil
		c.flushNow(l)
	}
}

// FlushUnlessOnly flushes the Batch unless it holds nothing or only c. A
// worker calls it before it runs something slow for c (an RPC handler):
// frames queued to others do not wait for it, and c's own answers to a
// pipelined run of requests still leave together.
func (l *Batch) FlushUnlessOnly(c *Conn) {
	if n := len(l.conns); n > 1 || n == 1 && l.conns[0] != c {
		l.Flush()
	}
}

// flushFor is a helper goroutine of a split flush: it flushes its part
// and goes back to t's pool.
func (l *Batch) flushFor(t *Transport) {
	l.Flush()
	l.Release = false
	t.flushers.Put(l)
}

// Write queues a copy of frame, coalesced with the other frames of this
// connection that wait to be written, and has a flusher goroutine write
// it. It reports false if the connection takes no more frames. Any
// goroutine may call it.
func (c *Conn) Write(frame []byte) bool { return c.WriteOn(nil, frame) }

// WriteOn is Write, with the flush left to l when l is not nil.
func (c *Conn) WriteOn(l *Batch, frame []byte) bool {
	c.wmu.Lock()
	if c.wclosed {
		c.wmu.Unlock()
		return false
	}
	if n := len(c.wq); n > 0 && c.wq[n-1].own && cap(c.wq[n-1].b)-len(c.wq[n-1].b) >= len(frame) {
		c.wq[n-1].b = append(c.wq[n-1].b, frame...)
	} else if len(frame) <= bufSize {
		b := append(c.t.bufs.get()[:0], frame...)
		c.wq = append(c.wq, outFrame{b: b, own: true})
	} else {
		c.wq = append(c.wq, outFrame{b: append([]byte(nil), frame...)})
	}
	return c.queued(l, len(frame))
}

// WriteShared queues frame without copying it: frame is shared by all the
// receivers of one EVENT encoding and must never be modified. l flushes
// it, or a flusher goroutine when l is nil.
func (c *Conn) WriteShared(l *Batch, frame []byte) bool {
	c.wmu.Lock()
	if c.wclosed {
		c.wmu.Unlock()
		return false
	}
	c.wq = append(c.wq, outFrame{b: frame})
	return c.queued(l, len(frame))
}

// queued accounts n more queued bytes and makes sure someone will write
// them: the current flusher if there is one, else l, else a new flusher
// goroutine. The caller holds wmu; queued releases it.
func (c *Conn) queued(l *Batch, n int) bool {
	c.wqBytes += n
	c.hold(int64(n))
	if c.wqBytes > c.t.cfg.MaxQueueBytes {
		c.wmu.Unlock()
		c.slowConsumer()
		return false
	}
	if c.flushing {
		c.wmu.Unlock()
		if l != nil {
			l.frames++
		}
		return true
	}
	c.flushing = true
	if l == nil {
		c.wmu.Unlock()
		go c.flush(nil, 0)
		return true
	}
	full := c.wqBytes > c.t.cfg.MaxQueueBytes/4
	c.wmu.Unlock()
	if len(l.conns) == 0 && c.t.cfg.ObserveQueueDelay != nil {
		l.timed, l.since = c.t, c.t.clock() // one clock read per Batch
	}
	l.conns = append(l.conns, c)
	l.frames++
	l.full = l.full || full
	return true
}

// slowConsumer closes a connection whose write queue passed its bound: the
// frames not yet being written are dropped, and a close frame follows
// whatever write is in progress.
func (c *Conn) slowConsumer() {
	c.markSlow("send queue over its limit")
	c.dropQueue()
	c.Close(ws.StatusPolicyViolation, "slow consumer: send queue over its limit")
}

// dropQueue drops the frames queued and not yet taken by a writer.
func (c *Conn) dropQueue() {
	c.wmu.Lock()
	c.releaseQueue(c.wq)
	c.wq = c.wq[:0]
	c.wqBytes = 0
	c.wmu.Unlock()
}

// markSlow counts and logs the connection as a slow consumer, once.
func (c *Conn) markSlow(why string) {
	c.wmu.Lock()
	first := !c.slow
	c.slow = true
	c.wmu.Unlock()
	if first {
		c.t.stats.slowConsumers.Add(1)
		c.t.log.Warn("closing slow consumer: "+why, "session", c.h,
			"client", c.ClientIP(), "max_queue_bytes", c.t.cfg.MaxQueueBytes,
			"write_timeout", c.t.cfg.WriteTimeout)
	}
}

// writeControl queues a control frame, flushed by l (or by a flusher
// goroutine when l is nil).
func (c *Conn) writeControl(l *Batch, op ws.OpCode, payload []byte) bool {
	var b [2 + 125]byte
	return c.WriteOn(l, AppendControl(b[:0], op, payload))
}

// flushNow writes c's queue for the flush list l that holds c, with
// non-blocking writevs, until the queue is empty. It never waits: a
// socket that takes less than offered (a slow receiver, a full socket
// buffer) hands the rest of the batch and the queue to a flusher
// goroutine, which waits under WriteTimeout. TLS connections always go to
// a flusher goroutine, since crypto/tls writes may block.
func (c *Conn) flushNow(l *Batch) {
	if c.tc != nil {
		go c.flush(nil, 0)
		return
	}
	c.flushRounds(l, maxFlushRounds, nil)
}

// flushRounds is flushNow's loop: up to rounds non-blocking writes of the
// queue, done the batch the round before wrote (kept as the next spare
// queue). Past them a flusher goroutine takes over.
func (c *Conn) flushRounds(l *Batch, rounds int, done []outFrame) {
	for range rounds {
		batch := c.takeQueue(done, l.Release)
		if batch == nil {
			return
		}
		n, total, err := c.writeNow(l, batch)
		if !c.wrote(batch, n, total, err) {
			return
		}
		done = batch
	}
	c.wmu.Lock()
	c.keepSpare(done, false)
	c.wmu.Unlock()
	go c.flush(nil, 0)
}

// keepSpare keeps done, a written batch's array, for the next batch, so
// that a connection written to again and again allocates none: as the
// queue when the queue has no array (an idle connection then holds one
// array, not two), else as the spare. With release the connection lets go
// of both instead, if its queue is empty: for a connection written to
// rarely (a ping, a WELCOME). The caller holds wmu.
func (c *Conn) keepSpare(done []outFrame, release bool) {
	switch {
	case release && len(c.wq) == 0:
		c.wq, c.wspare = nil, nil
	case done == nil:
	case cap(c.wq) == 0:
		c.wq = done[:0]
	default:
		c.wspare = done[:0]
	}
}

// takeQueue takes c's queue for a non-blocking write, done (the batch a
// write finished, or nil) kept for the next one (keepSpare, with
// release). When the queue is empty it ends c's flush instead (closing
// the socket if a close waited for it) and returns nil.
func (c *Conn) takeQueue(done []outFrame, release bool) []outFrame {
	c.wmu.Lock()
	c.keepSpare(done, release)
	if len(c.wq) == 0 {
		c.flushing = false
		finish := c.closeAfter
		c.wmu.Unlock()
		if finish {
			go c.finishClose()
		}
		return nil
	}
	batch := c.wq
	c.wq, c.wspare = c.wspare[:0], nil
	c.wqBytes = 0
	c.wmu.Unlock()
	return batch
}

// wrote ends a non-blocking write of batch that took n of its total
// bytes or failed with err: a failure closes the connection, a short
// write hands the rest to a flusher goroutine. It reports whether the
// whole batch was written, so that the caller's flush goes on.
func (c *Conn) wrote(batch []outFrame, n, total int, err error) bool {
	addBytes(&c.wbytes, n)
	if err != nil {
		c.releaseQueue(batch)
		c.writeFailed(err, false)
		return false
	}
	if n < total {
		go c.flush(batch, n)
		return false
	}
	c.releaseQueue(batch)
	return true
}

// writeNow writes batch with one non-blocking writev (a few for a batch
// over the kernel's iovec limit) and returns the bytes written and the
// bytes of the batch. A connection without a raw descriptor (the
// in-memory connections of tests) is written through its net.Conn.
func (c *Conn) writeNow(l *Batch, batch []outFrame) (n, total int, err error) {
	if c.fd < 0 {
		for _, f := range batch {
			total += len(f.b)
			l.bufs = append(l.bufs, f.b)
		}
		l.bufw = l.bufs // WriteTo consumes bufw; bufs keeps its capacity
		w, err := l.bufw.WriteTo(c.nc)
		clear(l.bufs)
		l.bufs = l.bufs[:0]
		return int(w), total, err
	}
	return c.writeRaw(&l.wscratch, batch)
}

// writeFailed ends a flush whose write failed: the connection is closed at
// once, counted as a slow consumer when the write timed out.
func (c *Conn) writeFailed(err error, clean bool) {
	c.wmu.Lock()
	c.flushing = false
	q := c.wq
	c.wq, c.wqBytes = nil, 0
	c.wmu.Unlock()
	c.releaseQueue(q)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		// The peer took nothing for WriteTimeout: a slow consumer too.
		// Its socket is likely too full for a close frame: one is tried,
		// briefly, when the stream is at a frame boundary (a close frame
		// after part of a frame would be read as that frame's payload).
		c.markSlow("write timed out")
		if clean {
			c.tryClose(ws.StatusPolicyViolation, "slow consumer: write timed out")
		}
	}
	c.Abort()
}

// tryClose writes a close frame straight to the socket, waiting at most
// closeTryTimeout: best effort, for a connection about to be aborted.
func (c *Conn) tryClose(code ws.StatusCode, reason string) {
	var b [2 + 125]byte
	frame := AppendControl(b[:0], ws.OpClose, closePayload(uint16(code), reason))
	var err error
	if c.tc != nil {
		c.nc.SetWriteDeadline(time.Now().Add(closeTryTimeout))
		err = c.writeTLSChunk(frame)
	} else if nc, own, berr := c.blockingConn(); berr != nil {
		err = berr
	} else {
		nc.SetWriteDeadline(time.Now().Add(closeTryTimeout))
		var n int
		n, err = nc.Write(frame)
		addBytes(&c.wbytes, n)
		if own {
			nc.Close()
		}
	}
	c.t.log.Debug("close frame to a slow consumer", "session", c.h, "code", int(code), "written", err == nil)
}

// closeTryTimeout bounds tryClose's write.
const closeTryTimeout = 100 * time.Millisecond

// Shed closes a connection to relieve MaxQueuedTotal pressure: what is
// queued is dropped at once; then, when no write is in progress, the
// connection is closed with a close frame (1008 and reason), else its
// socket is closed at once, which ends the write and lets go of its batch.
// Counted in Stats.Shed.
func (c *Conn) Shed(reason string) {
	c.t.stats.shed.Add(1)
	c.t.log.Warn("closing session: "+reason, "session", c.h, "client", c.ClientIP(),
		"held", c.HeldBytes(), "max_queued_total", c.t.cfg.MaxQueuedTotal)
	c.dropQueue()
	c.wmu.Lock()
	c.slow = true // counted here, not again as a slow consumer
	writing := c.flushing
	c.wmu.Unlock()
	if writing {
		// A write is in progress, likely stuck on a full socket and
		// perhaps in the middle of a frame: no close frame can follow it
		// cleanly. Closing the socket ends the write and lets go of its
		// batch.
		c.Abort()
		return
	}
	c.Close(ws.StatusPolicyViolation, reason)
}

// HeldBytes reports the bytes queued to the connection and not yet
// written, those a writer has taken included: what it adds to
// MaxQueuedTotal.
func (c *Conn) HeldBytes() int { return int(c.held.Load()) }

// flush is the flusher goroutine: it finishes batch, which flushNow left
// written up to off (or nothing, when batch is nil), then writes the
// queue, until it is empty. Each batch is first offered to the socket
// without waiting; only what the socket does not take is written with a
// blocking writev under WriteTimeout. It exists only while a socket is
// slower than its senders, or for writes queued off the workers (Reply,
// the close frame). It borrows its scratch from the transport for the
// time it runs, so a connection keeps none, and lets go of the queue's
// arrays when it is done.
func (c *Conn) flush(batch []outFrame, off int) {
	s, _ := c.t.flushers.Get().(*Batch)
	if s == nil {
		s = &Batch{helper: true}
	}
	defer func() {
		if s.bc != nil {
			s.bc.Close() // the duplicate of a detached descriptor
			s.bc = nil
		}
		c.t.flushers.Put(s)
	}()
	// With ObserveQueueDelay, since is a time no later than when the
	// frames of the next batch were queued: the flusher's start for the
	// first (which it did not see queued), then when the previous batch
	// was taken, since every frame of a batch was queued after the one
	// before it was taken.
	observe := c.t.cfg.ObserveQueueDelay
	var since, taken int64
	if observe != nil {
		since = c.t.clock()
	}
	for {
		if batch == nil {
			c.wmu.Lock()
			if len(c.wq) == 0 {
				c.flushing = false
				c.keepSpare(nil, true)
				done := c.closeAfter
				c.wmu.Unlock()
				if done {
					c.finishClose()
				}
				return
			}
			batch = c.wq
			c.wq, c.wspare = c.wspare[:0], nil
			c.wqBytes = 0
			c.wmu.Unlock()
		}
		if observe != nil {
			taken = c.t.clock()
		}
		err := c.writeBlocking(s, batch, off)
		c.releaseQueue(batch)
		c.wmu.Lock()
		c.keepSpare(batch, false)
		c.wmu.Unlock()
		if err != nil {
			var pe *partialError
			clean := !errors.As(err, &pe)
			if pe != nil {
				err = pe.error
			}
			c.writeFailed(err, clean)
			return
		}
		if observe != nil {
			observe(time.Duration(c.t.clock() - since))
			since = taken
		}
		batch, off = nil, 0
	}
}

// writeBlocking writes batch from byte off: first without waiting (no
// deadline to set, no poller to involve, for the common case of a socket
// with room), then, for what the socket did not take, with a blocking
// write under WriteTimeout. It returns the write's error, as a
// *partialError when some of the batch was written before it failed (no
// close frame may follow: it would be read as part of a frame).
func (c *Conn) writeBlocking(s *Batch, batch []outFrame, off int) error {
	if c.tc == nil && c.fd >= 0 {
		n, total, err := c.writeRaw(&s.wscratch, skip(batch, off, &s.frames1))
		clear(s.frames1)
		s.frames1 = s.frames1[:0]
		addBytes(&c.wbytes, n)
		if err != nil {
			return partial(err, off+n > 0)
		}
		if n == total {
			return nil
		}
		off += n
	}
	nc := c.nc
	if c.detached {
		if s.bc == nil {
			var err error
			if s.bc, _, err = c.blockingConn(); err != nil {
				return partial(err, off > 0)
			}
		}
		nc = s.bc
	}
	nc.SetWriteDeadline(time.Now().Add(c.t.cfg.WriteTimeout))
	var err error
	var n int64
	if c.tc != nil {
		err = c.writeTLS(batch)
		n = 1 // a TLS write may have sent records: never clean
	} else {
		for _, f := range skip(batch, off, &s.frames1) {
			s.bufs = append(s.bufs, f.b)
		}
		s.bufw = s.bufs
		n, err = s.bufw.WriteTo(nc)
		addBytes(&c.wbytes, int(n))
		clear(s.bufs)
		s.bufs = s.bufs[:0]
		clear(s.frames1)
		s.frames1 = s.frames1[:0]
	}
	// No deadline outlives the write: the runtime fails every later
	// write, the non-blocking ones of flushNow too, once it passes.
	nc.SetWriteDeadline(time.Time{})
	if err != nil {
		return partial(err, off > 0 || n > 0)
	}
	return nil
}

// skip returns batch without its first off bytes, using scratch when a
// frame is cut.
func skip(batch []outFrame, off int, scratch *[]outFrame) []outFrame {
	if off == 0 {
		return batch
	}
	for i, f := range batch {
		if off < len(f.b) {
			*scratch = append(append((*scratch)[:0], outFrame{b: f.b[off:]}), batch[i+1:]...)
			return *scratch
		}
		off -= len(f.b)
	}
	return nil
}

// partial wraps err as written part of a batch, when some was.
func partial(err error, some bool) error {
	if !some {
		return err
	}
	return &partialError{err}
}

// partialError is a write error after part of a batch was written.
type partialError struct{ error }

func (e *partialError) Unwrap() error { return e.error }

// releaseQueue returns pooled buffers and forgets shared frames.
func (c *Conn) releaseQueue(q []outFrame) {
	n := 0
	for i := range q {
		n += len(q[i].b)
		if q[i].own && cap(q[i].b) == bufSize {
			c.t.bufs.put(q[i].b[:bufSize])
		}
		q[i] = outFrame{}
	}
	c.hold(-int64(n))
}

// holdStep is the granule in which a connection's held bytes are added
// to the transport's total: a frame queued costs the connection's own
// (uncontended) counter, and the shared one only when the connection's
// crosses a multiple of holdStep. The total is then short by less than
// holdStep per connection.
const holdStep = 4096

// hold accounts d more bytes queued to the connection (fewer, when
// negative) and, in steps of holdStep, to the transport's total
// (MaxQueuedTotal), calling OnPressure when the total first passes it.
func (c *Conn) hold(d int64) {
	after := c.held.Add(d)
	steps := after/holdStep - (after-d)/holdStep
	if steps == 0 {
		return
	}
	total := c.t.queued.Add(steps * holdStep)
	if steps > 0 && c.t.cfg.MaxQueuedTotal > 0 && total > int64(c.t.cfg.MaxQueuedTotal) &&
		c.t.cfg.OnPressure != nil && c.t.pressure.CompareAndSwap(false, true) {
		c.t.cfg.OnPressure()
	}
}

// bufPool pools the fixed-size read and write buffers.
type bufPool struct{ p sync.Pool }

func (p *bufPool) get() []byte {
	if b, ok := p.p.Get().(*[bufSize]byte); ok {
		return b[:]
	}
	return new([bufSize]byte)[:]
}

func (p *bufPool) put(b []byte) {
	if cap(b) == bufSize {
		p.p.Put((*[bufSize]byte)(b[:bufSize]))
	}
}
