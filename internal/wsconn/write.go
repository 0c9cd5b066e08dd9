package wsconn

import (
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

	// Scratch of the non-blocking write (write_linux.go) and of the write
	// to a connection without a descriptor, reused for every connection
	// the list flushes.
	wscratch
	bufs, bufw net.Buffers
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
		go c.flushFn()
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
			"client", c.clientIP, "max_queue_bytes", c.t.cfg.MaxQueueBytes,
			"write_timeout", c.t.cfg.WriteTimeout)
	}
}

// writeControl queues a control frame.
func (c *Conn) writeControl(op ws.OpCode, payload []byte) bool {
	var b [2 + 125]byte
	return c.Write(AppendControl(b[:0], op, payload))
}

// flushNow writes c's queue for the flush list l that holds c, with
// non-blocking writevs, until the queue is empty. It never waits: a
// socket that takes less than offered (a slow receiver, a full socket
// buffer) hands the rest of the batch and the queue to a flusher
// goroutine, which waits under WriteTimeout. TLS connections always go to
// a flusher goroutine, since crypto/tls writes may block.
func (c *Conn) flushNow(l *Batch) {
	if c.tc != nil {
		go c.flushFn()
		return
	}
	c.flushRounds(l, maxFlushRounds, nil)
}

// flushRounds is flushNow's loop: up to rounds non-blocking writes of the
// queue, done the batch the round before wrote (kept as the next spare
// queue). Past them a flusher goroutine takes over.
func (c *Conn) flushRounds(l *Batch, rounds int, done []outFrame) {
	for range rounds {
		batch := c.takeQueue(done)
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
	c.wspare = done[:0]
	c.wmu.Unlock()
	go c.flushFn()
}

// takeQueue takes c's queue for a non-blocking write, done (the batch a
// write finished, or nil) becoming the spare queue. When the queue is
// empty it ends c's flush instead (closing the socket if a close waited
// for it) and returns nil.
func (c *Conn) takeQueue(done []outFrame) []outFrame {
	c.wmu.Lock()
	if done != nil {
		c.wspare = done[:0]
	}
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
		c.batch, c.boff = batch, n
		go c.flushFn()
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
	if c.rc == nil {
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
	c.nc.SetWriteDeadline(time.Now().Add(closeTryTimeout))
	var err error
	if c.tc != nil {
		err = c.writeTLSChunk(frame)
	} else {
		var n int
		n, err = c.nc.Write(frame)
		addBytes(&c.wbytes, n)
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
	c.t.log.Warn("closing session: "+reason, "session", c.h, "client", c.clientIP,
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

// flush is the flusher goroutine: it finishes a batch that flushNow left
// half written, then writes the queue with one writev per batch, each
// under WriteTimeout, until it is empty. It exists only while a socket is
// slower than its senders, or for writes queued off the workers (Reply,
// pings, the close frame).
func (c *Conn) flush() {
	// With ObserveQueueDelay, since is a time no later than when the
	// frames of the next batch were queued: the flusher's start for the
	// first (which it did not see queued), then when the previous batch
	// was taken, since every frame of a batch was queued after the one
	// before it was taken.
	observe := c.t.cfg.ObserveQueueDelay
	var since int64
	if observe != nil {
		since = c.t.clock()
	}
	for {
		batch, off := c.batch, c.boff
		c.batch, c.boff = nil, 0
		if batch == nil {
			c.wmu.Lock()
			if len(c.wq) == 0 {
				c.flushing = false
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

		now := time.Now()
		c.nc.SetWriteDeadline(now.Add(c.t.cfg.WriteTimeout))
		var err error
		// clean: the stream is at a frame boundary if this write fails
		// having written nothing (a TLS write may have sent records).
		clean := off == 0 && c.tc == nil
		if c.tc != nil {
			err = c.writeTLS(batch)
		} else {
			c.iov = c.iov[:0]
			for _, f := range batch {
				switch {
				case off >= len(f.b):
					off -= len(f.b)
				default:
					c.iov = append(c.iov, f.b[off:])
					off = 0
				}
			}
			c.iovw = c.iov
			var n int64
			n, err = c.iovw.WriteTo(c.nc)
			addBytes(&c.wbytes, int(n))
			clean = clean && n == 0
			clear(c.iov)
		}
		// No deadline outlives the write: the runtime fails every later
		// write, the non-blocking ones of flushNow too, once it passes.
		c.nc.SetWriteDeadline(time.Time{})
		c.releaseQueue(batch)

		c.wmu.Lock()
		c.wspare = batch[:0]
		c.wmu.Unlock()
		if err != nil {
			c.writeFailed(err, clean)
			return
		}
		if observe != nil {
			observe(time.Duration(c.t.clock() - since))
			since = int64(now.Sub(c.t.epoch))
		}
	}
}

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
