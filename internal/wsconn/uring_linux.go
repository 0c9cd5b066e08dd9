//go:build linux

package wsconn

import (
	"net"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tagwamp/tagwamp/internal/uring"
)

// ringEntries is the size of each io_uring submission ring, and the most
// connections one io_uring_enter writes to.
const ringEntries = 256

// ringMinConns is the least number of connections a flush list hands to
// io_uring: below it their writevs cost as much as one submission.
const ringMinConns = 2

// sendFlags make a ring's sendmsg behave as the writev of writeRaw: never
// wait for room (a full socket completes with EAGAIN, a partly full one
// with what it took), and no SIGPIPE from a closed peer.
const sendFlags = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL

// rings are a Transport's io_uring instances (Config.DisableIOUring), made on
// demand, one per goroutine flushing at once (a worker, the helpers of a
// split flush), at most maxRings; a flush that finds none free, or a
// transport where io_uring is unavailable, writes with writev.
type rings struct {
	mu     sync.Mutex
	free   []*uring.Ring
	made   int
	failed bool // setup failed once, or a ring broke: io_uring is off
	closed bool
	// pinned holds the batches of a ring that broke (io_uring_enter
	// failing) before all their completions came: the kernel may still
	// read them, so they are never released.
	pinned [][]outFrame
}

// maxRings bounds the rings of one transport.
const maxRings = 64

// get returns a free ring, making one when there is none yet, or nil when
// io_uring is off, unavailable or all maxRings are busy.
func (rs *rings) get(t *Transport) *uring.Ring {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.failed || rs.closed {
		return nil
	}
	if n := len(rs.free); n > 0 {
		r := rs.free[n-1]
		rs.free[n-1] = nil
		rs.free = rs.free[:n-1]
		return r
	}
	if rs.made >= maxRings {
		return nil
	}
	r, err := uring.New(uring.Params{Entries: ringEntries})
	if err != nil {
		rs.failed = true
		t.log.Warn("io_uring unavailable: writing with writev", "err", err)
		return nil
	}
	rs.made++
	return r
}

// put gives r back, or closes it when the transport closed.
func (rs *rings) put(r *uring.Ring) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		r.Close()
		return
	}
	rs.free = append(rs.free, r)
}

// broke turns io_uring off for the transport after a ring failed, keeping
// the batches the kernel may still read.
func (rs *rings) broke(pinned [][]outFrame) {
	rs.mu.Lock()
	rs.failed = true
	rs.pinned = append(rs.pinned, pinned...)
	rs.mu.Unlock()
}

// close closes the free rings; a ring in use is closed when it is put
// back.
func (rs *rings) close() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.closed = true
	for _, r := range rs.free {
		r.Close()
	}
	rs.free = nil
}

// ringScratch is a Batch's scratch for the io_uring flush: the
// connections of one submission, their iovecs and msghdrs.
type ringScratch struct {
	r      *uring.Ring
	items  []ringItem
	iov    []syscall.Iovec
	msgs   []unix.Msghdr
	next   int // the item whose descriptor holdFn receives
	holdFn func(uintptr) bool
	reapFn func(uint64, int32)
	broken bool
}

// ringItem is one connection of a submission and its batch.
type ringItem struct {
	c          *Conn
	batch      []outFrame
	iov0, iov1 int // its iovecs: iov[iov0:iov1]
	total      int
	fd         int32
	res        int32
	err        error // the descriptor could not be held (closed)
	done       bool  // its completion came
	acquired   bool  // a detached descriptor held by fdAcquire
}

// flushConns flushes every connection of the list: with io_uring, when
// the transport has it on and the list is long enough, else one by one
// with writev.
func (l *Batch) flushConns() {
	if len(l.conns) < ringMinConns || l.conns[0].t.cfg.DisableIOUring {
		l.flushEach(l.conns)
		return
	}
	t := l.conns[0].t
	r := t.rings.get(t)
	if r == nil {
		l.flushEach(l.conns)
		return
	}
	s := l.rs
	if s == nil {
		s = new(ringScratch)
		s.holdFn, s.reapFn = s.hold, s.reap
		l.rs = s
	}
	s.r = r
	for start := 0; start < len(l.conns); start += ringEntries {
		l.flushRing(l.conns[start:min(start+ringEntries, len(l.conns))])
		if s.broken {
			l.flushEach(l.conns[start+ringEntries:])
			break
		}
	}
	s.r = nil
	if !s.broken {
		t.rings.put(r)
	}
	s.broken = false
}

// flushRing writes the queues of conns (at most ringEntries) with one
// batch of sendmsg operations, submitted and reaped with one
// io_uring_enter, then finishes each connection's flush as flushNow
// would have after its first writev: the same rules for short writes,
// errors, and the rounds that follow for what was queued meanwhile.
func (l *Batch) flushRing(conns []*Conn) {
	s := l.rs
	for i, c := range conns {
		conns[i] = nil
		if c.tc != nil || c.fd < 0 {
			c.flushNow(l)
			continue
		}
		batch := c.takeQueue(nil, l.Release)
		if batch == nil {
			continue
		}
		it := ringItem{c: c, batch: batch, iov0: len(s.iov)}
		for _, f := range batch {
			if len(f.b) == 0 {
				continue
			}
			v := syscall.Iovec{Base: unsafe.SliceData(f.b)}
			v.SetLen(len(f.b))
			s.iov = append(s.iov, v)
			it.total += len(f.b)
		}
		it.iov1 = len(s.iov)
		if it.iov1-it.iov0 > maxIOV || it.total == 0 {
			// More frames than one sendmsg takes: the writev path.
			s.iov = s.iov[:it.iov0]
			n, total, err := c.writeRaw(&l.wscratch, batch)
			if c.wrote(batch, n, total, err) {
				c.flushRounds(l, maxFlushRounds-1, batch)
			}
			continue
		}
		s.items = append(s.items, it)
	}
	if len(s.items) > 0 {
		if cap(s.msgs) < len(s.items) {
			s.msgs = make([]unix.Msghdr, len(s.items), ringEntries)
		}
		s.msgs = s.msgs[:len(s.items)]
		for i := range s.items {
			it := &s.items[i]
			s.msgs[i] = unix.Msghdr{Iov: (*unix.Iovec)(unsafe.Pointer(&s.iov[it.iov0]))}
			s.msgs[i].SetIovlen(it.iov1 - it.iov0)
		}
		s.holdFrom(0)
		s.release()
		l.finishRing()
	}
	clear(s.iov) // they point into frames the queues release
	s.iov = s.iov[:0]
	clear(s.msgs)
	clear(s.items)
	s.items = s.items[:0]
}

// holdFrom holds the descriptors of items i and after, so that none is
// closed and reused before the submission (it would get another
// connection's bytes): a detached one by its reference count (released
// by release), another through its RawConn.Write, nesting one hold in the
// next; the innermost submits.
func (s *ringScratch) holdFrom(i int) {
	for ; i < len(s.items); i++ {
		it := &s.items[i]
		c := it.c
		if c.detached {
			if !c.fdAcquire() {
				it.err = net.ErrClosed
				continue
			}
			it.fd, it.acquired = c.fd, true
			continue
		}
		rc, err := c.rawConn()
		if err == nil {
			s.next = i
			err = rc.Write(s.holdFn)
			if err == nil {
				return // hold went on from i+1 and submitted
			}
		}
		it.err = err
	}
	s.submit()
}

// release ends the holds of the detached descriptors (holdFrom).
func (s *ringScratch) release() {
	for i := range s.items {
		if it := &s.items[i]; it.acquired {
			it.c.fdRelease()
			it.acquired = false
		}
	}
}

// hold is the RawConn.Write callback of holdFrom: it notes the descriptor
// and goes on, holding it until the submission is done.
func (s *ringScratch) hold(fd uintptr) bool {
	i := s.next
	s.items[i].fd = int32(fd)
	s.holdFrom(i + 1)
	return true
}

// submit queues a sendmsg for every held item, submits them with one
// io_uring_enter and reaps their completions. With MSG_DONTWAIT they
// complete within the submission; the loop waits for any that did not.
func (s *ringScratch) submit() {
	want := 0
	for i := range s.items {
		if s.items[i].err == nil {
			s.r.PrepSendmsg(s.items[i].fd, &s.msgs[i], sendFlags, uint64(i))
			want++
		}
	}
	for tries := 0; want > 0; {
		_, err := s.r.SubmitAndWait(uint32(want))
		want -= s.r.Reap(s.reapFn)
		if err != nil {
			if tries++; tries == 3 {
				s.broken = true
				return
			}
		}
	}
}

// reap records one completion.
func (s *ringScratch) reap(user uint64, res int32) {
	it := &s.items[user]
	it.res, it.done = res, true
}

// finishRing ends each item's write as writeRaw's caller would.
func (l *Batch) finishRing() {
	s := l.rs
	var pinned [][]outFrame
	for i := range s.items {
		it := &s.items[i]
		c := it.c
		var n int
		err := it.err
		switch {
		case err != nil:
		case !it.done: // the ring broke: the kernel may still read the batch
			pinned = append(pinned, it.batch)
			c.writeFailed(syscall.EIO, false)
			continue
		case it.res >= 0:
			n = int(it.res)
		case syscall.Errno(-it.res) == syscall.EAGAIN:
		default:
			err = syscall.Errno(-it.res)
		}
		if c.wrote(it.batch, n, it.total, err) {
			c.flushRounds(l, maxFlushRounds-1, it.batch)
		}
	}
	if s.broken {
		c0 := s.items[0].c
		c0.t.log.Error("io_uring submission failed: writing with writev from now on")
		c0.t.rings.broke(pinned)
	}
}
