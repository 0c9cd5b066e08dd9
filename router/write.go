package router

import (
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/protocol"
)

// flushAfterFrames bounds the frames a flush list gathers before its owner
// flushes it in the middle of a read batch, so that a batch of many
// publications to many receivers still sends the first ones early. Below
// it, the frames of one batch to one receiver leave in one writev. On a
// loopback box a writev (with the wakeup of its reader) costs tens of
// times a queued frame, so the bound is large: 131 publications to 1,000
// receivers, 13 to 10,000 (with 1<<15, CPU per delivery doubled in
// BenchmarkLoopbackFanout/subs=1000; see bench/RESULTS.md).
const flushAfterFrames = 1 << 17

// parallelFlushMin is the least number of connections for each goroutine
// of a split flush (flushList.flush).
const parallelFlushMin = 256

// maxFlushRounds bounds the writevs a flush list's owner makes for one
// connection that other goroutines keep queuing to; past it a flusher
// goroutine takes over, so one busy receiver cannot hold a worker.
const maxFlushRounds = 4

// flushList is the set of connections whose queues one goroutine (a worker
// serving a read batch, or a server-side Publish) has queued frames to and
// will flush itself, once each, with a non-blocking writev: the shape of
// nats-server's flushClients. A connection is on at most one list or has
// one flusher goroutine at a time (conn.flushing), so a list holds each
// connection once. A list belongs to one goroutine and is not safe for
// concurrent use.
type flushList struct {
	conns  []*conn
	frames int  // frames queued through the list since its last flush
	full   bool // a connection on the list holds over a quarter of MaxQueueBytes
	helper bool // the part of a split flush: never split again

	// Scratch of the non-blocking write (write_linux.go) and of the write
	// to a connection without a descriptor, reused for every connection
	// the list flushes.
	wscratch
	bufs, bufw net.Buffers
}

// due reports whether the list should be flushed before the read batch
// ends: too many frames wait, or one receiver's queue grows large.
func (l *flushList) due() bool { return l.frames >= flushAfterFrames || l.full }

// flush writes the queue of every connection on the list without waiting:
// what a socket does not take at once is left to a flusher goroutine. A
// long list is split among up to GOMAXPROCS goroutines, so that the writevs
// of one publication to many receivers use every core.
func (l *flushList) flush() {
	if n := len(l.conns); n >= 2*parallelFlushMin && !l.helper {
		srv := l.conns[0].srv
		parts := min(runtime.GOMAXPROCS(0), n/parallelFlushMin)
		for p := 1; p < parts; p++ {
			h, _ := srv.flushers.Get().(*flushList)
			if h == nil {
				h = &flushList{helper: true}
			}
			h.conns = append(h.conns, l.conns[n*p/parts:n*(p+1)/parts]...)
			go h.flushFor(srv)
		}
		clear(l.conns[n/parts:])
		l.conns = l.conns[:n/parts]
	}
	for i := 0; i < len(l.conns); i++ {
		c := l.conns[i]
		l.conns[i] = nil
		c.flushNow(l)
	}
	l.conns = l.conns[:0]
	l.frames, l.full = 0, false
}

// flushForCall flushes the list before an RPC handler runs, unless it
// holds nothing or only c, the caller's own connection: frames the batch
// queued to others do not wait for a handler, and the answers to a
// pipelined run of calls still leave together.
func (l *flushList) flushForCall(c *conn) {
	if n := len(l.conns); n > 1 || n == 1 && l.conns[0] != c {
		l.flush()
	}
}

// flushFor is a helper goroutine of a split flush: it flushes its part
// and goes back to srv's pool.
func (l *flushList) flushFor(srv *Server) {
	l.flush()
	srv.flushers.Put(l)
}

// write queues a copy of frame, coalesced with the other frames of this
// connection that wait to be written, and has a flusher goroutine write
// it. It reports false if the connection takes no more frames. Any
// goroutine may call it.
func (c *conn) write(frame []byte) bool { return c.writeOn(nil, frame) }

// writeOn is write, with the flush left to l when l is not nil.
func (c *conn) writeOn(l *flushList, frame []byte) bool {
	c.wmu.Lock()
	if c.wclosed {
		c.wmu.Unlock()
		return false
	}
	if n := len(c.wq); n > 0 && c.wq[n-1].own && cap(c.wq[n-1].b)-len(c.wq[n-1].b) >= len(frame) {
		c.wq[n-1].b = append(c.wq[n-1].b, frame...)
	} else if len(frame) <= bufSize {
		b := append(c.srv.bufs.get()[:0], frame...)
		c.wq = append(c.wq, outFrame{b: b, own: true})
	} else {
		c.wq = append(c.wq, outFrame{b: append([]byte(nil), frame...)})
	}
	return c.queued(l, len(frame))
}

// writeShared queues frame without copying it: frame is shared by all the
// receivers of one EVENT encoding and must never be modified. l flushes
// it, or a flusher goroutine when l is nil.
func (c *conn) writeShared(l *flushList, frame []byte) bool {
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
func (c *conn) queued(l *flushList, n int) bool {
	c.wqBytes += n
	if c.wqBytes > c.srv.opts.MaxQueueBytes {
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
	full := c.wqBytes > c.srv.opts.MaxQueueBytes/4
	c.wmu.Unlock()
	l.conns = append(l.conns, c)
	l.frames++
	l.full = l.full || full
	return true
}

// slowConsumer closes a session whose write queue passed its bound: the
// frames not yet being written are dropped, and a close frame follows
// whatever write is in progress.
func (c *conn) slowConsumer() {
	c.markSlow("send queue over its limit")
	c.wmu.Lock()
	c.releaseQueue(c.wq)
	c.wq = c.wq[:0]
	c.wqBytes = 0
	c.wmu.Unlock()
	c.closeWith(protocol.ClosePolicyViolation, "slow consumer: send queue over its limit")
}

// markSlow counts and logs the connection as a slow consumer, once.
func (c *conn) markSlow(why string) {
	if c.slow.CompareAndSwap(false, true) {
		c.srv.stats.slowConsumers.Add(1)
		c.srv.log.Warn("closing slow consumer: "+why, "session", c.sess.id,
			"client", c.clientIP, "max_queue_bytes", c.srv.opts.MaxQueueBytes,
			"write_timeout", c.srv.opts.WriteTimeout)
	}
}

// writeControl queues a control frame.
func (c *conn) writeControl(op ws.OpCode, payload []byte) bool {
	var b [2 + 125]byte
	return c.write(appendControl(b[:0], op, payload))
}

// flushNow writes c's queue for the flush list l that holds c, with
// non-blocking writevs, until the queue is empty. It never waits: a
// socket that takes less than offered (a slow receiver, a full socket
// buffer) hands the rest of the batch and the queue to a flusher
// goroutine, which waits under WriteTimeout. TLS connections always go to
// a flusher goroutine, since crypto/tls writes may block.
func (c *conn) flushNow(l *flushList) {
	if c.tc != nil {
		go c.flushFn()
		return
	}
	var done []outFrame
	for range maxFlushRounds {
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
			return
		}
		batch := c.wq
		c.wq, c.wspare = c.wspare[:0], nil
		c.wqBytes = 0
		c.wmu.Unlock()

		n, total, err := c.writeNow(l, batch)
		if err != nil {
			c.releaseQueue(batch)
			c.writeFailed(err)
			return
		}
		if n < total {
			c.batch, c.boff = batch, n
			go c.flushFn()
			return
		}
		c.releaseQueue(batch)
		done = batch
	}
	c.wmu.Lock()
	c.wspare = done[:0]
	c.wmu.Unlock()
	go c.flushFn()
}

// writeNow writes batch with one non-blocking writev (a few for a batch
// over the kernel's iovec limit) and returns the bytes written and the
// bytes of the batch. A connection without a raw descriptor (the
// in-memory connections of tests) is written through its net.Conn.
func (c *conn) writeNow(l *flushList, batch []outFrame) (n, total int, err error) {
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
func (c *conn) writeFailed(err error) {
	c.wmu.Lock()
	c.flushing = false
	c.wmu.Unlock()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		// The peer took nothing for WriteTimeout: a slow consumer too,
		// one whose socket is too full for a close frame.
		c.markSlow("write timed out")
	}
	c.abort()
}

// flush is the flusher goroutine: it finishes a batch that flushNow left
// half written, then writes the queue with one writev per batch, each
// under WriteTimeout, until it is empty. It exists only while a socket is
// slower than its senders, or for writes queued off the workers (Reply,
// pings, the close frame).
func (c *conn) flush() {
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

		c.nc.SetWriteDeadline(time.Now().Add(c.srv.opts.WriteTimeout))
		var err error
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
			_, err = c.iovw.WriteTo(c.nc)
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
			c.writeFailed(err)
			return
		}
	}
}

// releaseQueue returns pooled buffers and forgets shared frames.
func (c *conn) releaseQueue(q []outFrame) {
	for i := range q {
		if q[i].own && cap(q[i].b) == bufSize {
			c.srv.bufs.put(q[i].b[:bufSize])
		}
		q[i] = outFrame{}
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
