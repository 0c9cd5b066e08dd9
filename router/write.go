package router

import (
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/protocol"
)

// write queues a copy of frame, coalesced with the other frames of this
// connection that wait to be written. It reports false if the connection
// takes no more frames.
func (c *conn) write(frame []byte) bool {
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
	return c.queued(len(frame))
}

// writeShared queues frame without copying it: frame is shared by all the
// receivers of one EVENT encoding and must never be modified.
func (c *conn) writeShared(frame []byte) bool {
	c.wmu.Lock()
	if c.wclosed {
		c.wmu.Unlock()
		return false
	}
	c.wq = append(c.wq, outFrame{b: frame})
	return c.queued(len(frame))
}

// queued accounts n more queued bytes and starts a flusher if none runs.
// The caller holds wmu; queued releases it.
func (c *conn) queued(n int) bool {
	c.wqBytes += n
	if c.wqBytes > c.srv.opts.MaxQueueBytes {
		c.wmu.Unlock()
		c.slowConsumer()
		return false
	}
	start := !c.flushing
	c.flushing = true
	c.wmu.Unlock()
	if start {
		go c.flushFn()
	}
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

// flush writes the queue with one writev per batch until it is empty. It
// runs on its own goroutine, which exists only while frames are pending.
func (c *conn) flush() {
	for {
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
		batch := c.wq
		c.wq, c.wspare = c.wspare[:0], nil
		c.wqBytes = 0
		c.wmu.Unlock()

		c.nc.SetWriteDeadline(time.Now().Add(c.srv.opts.WriteTimeout))
		var err error
		if c.tc != nil {
			err = c.writeTLS(batch)
		} else {
			c.iov = c.iov[:0]
			for _, f := range batch {
				c.iov = append(c.iov, f.b)
			}
			c.iovw = c.iov
			_, err = c.iovw.WriteTo(c.nc)
			clear(c.iov)
		}
		c.releaseQueue(batch)

		c.wmu.Lock()
		c.wspare = batch[:0]
		c.wmu.Unlock()
		if err != nil {
			c.wmu.Lock()
			c.flushing = false
			c.wmu.Unlock()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				// The peer took nothing for WriteTimeout: a slow consumer
				// too, one whose socket is too full for a close frame.
				c.markSlow("write timed out")
			}
			c.abort()
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
