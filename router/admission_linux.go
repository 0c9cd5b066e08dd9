//go:build linux

package router

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
)

// waitRoom holds accepted connections until their first byte, with one
// epoll instance of its own and one goroutine (loop) that both waits for
// readiness and closes the connections that stay silent past
// HandshakeFirstByteTimeout. A waiting connection costs its descriptor,
// its pendingConn and an epoll registration: no goroutine, no buffer.
//
// The epoll descriptor is itself watched by the runtime's poller (an
// *os.File in non-blocking mode, read through its RawConn): loop parks
// like any goroutine waiting for a socket, rather than holding a thread in
// epoll_wait, whose wake-up through the scheduler cost an honest client
// about a quarter of a millisecond more per handshake (bench/RESULTS.md,
// "Slowloris"). Its read deadline is the oldest connection's first-byte
// deadline.
//
// Every registration is removed (EPOLL_CTL_DEL) under mu before its
// socket is closed or handed on, so a descriptor number the kernel reuses
// is never mistaken for a waiting one; events carry the connection's id,
// not its descriptor.
type waitRoom struct {
	srv  *Server
	once sync.Once
	ok   bool     // the epoll instance exists
	epfd int      // the epoll instance
	ep   *os.File // epfd, for the runtime's poller; owns it
	wake [2]int   // a pipe whose read end is registered with id 0

	mu     sync.Mutex
	closed bool
	seq    uint64
	byID   map[uint64]*pendingConn
	fifo   []*pendingConn // in arrival order, so by first-byte deadline
	done   chan struct{}  // closed when loop returns
}

const waitEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func (r *waitRoom) init() bool {
	r.once.Do(func() {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			r.srv.log.Error("waiting room: epoll_create1 failed; connections go straight to the handshake", "err", err)
			return
		}
		if err := syscall.Pipe2(r.wake[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
			syscall.Close(epfd)
			r.srv.log.Error("waiting room: pipe2 failed; connections go straight to the handshake", "err", err)
			return
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN} // id 0
		err = syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, r.wake[0], &ev)
		if err == nil {
			err = syscall.SetNonblock(epfd, true)
		}
		if err == nil {
			r.ep = os.NewFile(uintptr(epfd), "waiting room epoll")
			err = r.ep.SetReadDeadline(time.Time{}) // fails unless the runtime polls it
		}
		if err != nil {
			if r.ep != nil {
				r.ep.Close()
			} else {
				syscall.Close(epfd)
			}
			syscall.Close(r.wake[0])
			syscall.Close(r.wake[1])
			r.srv.log.Error("waiting room: epoll setup failed; connections go straight to the handshake", "err", err)
			return
		}
		r.epfd, r.ok = epfd, true
		r.byID = make(map[uint64]*pendingConn)
		r.done = make(chan struct{})
		go r.loop()
	})
	return r.ok
}

// add puts pc in the room until its first byte, or hands it on at once
// when it cannot wait there.
func (r *waitRoom) add(pc *pendingConn) {
	if !r.init() || !descriptor(pc) {
		r.srv.ready(pc)
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.srv.dropPending(pc, "server shutting down")
		return
	}
	r.seq++
	pc.id = r.seq
	ev := syscall.EpollEvent{Events: waitEvents, Fd: int32(uint32(pc.id)), Pad: int32(uint32(pc.id >> 32))}
	if err := syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_ADD, pc.fd, &ev); err != nil {
		r.mu.Unlock()
		r.srv.ready(pc)
		return
	}
	r.byID[pc.id] = pc
	r.fifo = append(r.fifo, pc)
	if len(r.byID) == 1 {
		syscall.Write(r.wake[1], []byte{0}) // loop may be waiting without a timeout
	}
	r.mu.Unlock()
}

// descriptor sets pc.fd; false when the connection has none.
func descriptor(pc *pendingConn) bool {
	sc, ok := pc.nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	return rc.Control(func(fd uintptr) { pc.fd = int(fd) }) == nil
}

func (r *waitRoom) loop() {
	defer close(r.done)
	rc, err := r.ep.SyscallConn()
	if err != nil { // cannot happen: init has polled it
		panic(err)
	}
	events := make([]syscall.EpollEvent, 128)
	var ready, silent []*pendingConn
	var scratch [64]byte
	var n int
	var werr error
	wait := func(fd uintptr) bool { // false: nothing yet, park until epfd is readable
		n, werr = syscall.EpollWait(int(fd), events, 0)
		return n != 0 || werr != nil && werr != syscall.EINTR
	}
	for {
		r.ep.SetReadDeadline(r.deadline())
		n, werr = 0, nil
		if err := rc.Read(wait); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			r.srv.log.Error("waiting room: wait failed", "err", err)
			time.Sleep(10 * time.Millisecond)
		}
		if werr != nil && werr != syscall.EINTR {
			r.srv.log.Error("waiting room: epoll_wait failed", "err", werr)
			time.Sleep(10 * time.Millisecond)
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			r.ep.Close()
			syscall.Close(r.wake[0])
			syscall.Close(r.wake[1])
			return
		}
		for _, ev := range events[:max(n, 0)] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				syscall.Read(r.wake[0], scratch[:])
				continue
			}
			if pc := r.takeLocked(id); pc != nil {
				ready = append(ready, pc)
			}
		}
		silent = r.expiredLocked(time.Now(), silent)
		r.mu.Unlock()
		for i, pc := range ready {
			r.srv.ready(pc)
			ready[i] = nil
		}
		for i, pc := range silent {
			r.srv.stats.silentConns.Add(1)
			r.srv.dropPending(pc, "no byte within the first-byte timeout")
			silent[i] = nil
		}
		ready, silent = ready[:0], silent[:0]
	}
}

// takeLocked removes the connection id from the room, if it is there.
func (r *waitRoom) takeLocked(id uint64) *pendingConn {
	pc := r.byID[id]
	if pc == nil {
		return nil
	}
	delete(r.byID, id)
	syscall.EpollCtl(r.epfd, syscall.EPOLL_CTL_DEL, pc.fd, nil)
	return pc
}

// expiredLocked appends to dst and removes the connections whose
// first-byte time is over; fifo is in deadline order, so it stops at the
// first that is not.
func (r *waitRoom) expiredLocked(now time.Time, dst []*pendingConn) []*pendingConn {
	limit := r.srv.opts.HandshakeFirstByteTimeout
	i := 0
	for ; i < len(r.fifo); i++ {
		pc := r.fifo[i]
		if r.byID[pc.id] != pc { // gone already
			r.fifo[i] = nil
			continue
		}
		if now.Sub(pc.accepted) < limit {
			break
		}
		r.takeLocked(pc.id)
		r.fifo[i] = nil
		dst = append(dst, pc)
	}
	r.fifo = r.fifo[i:]
	if len(r.fifo) == 0 {
		r.fifo = nil
	}
	return dst
}

// deadline is how long loop may wait: until the oldest waiting
// connection's first-byte deadline, or forever (zero) when none waits.
func (r *waitRoom) deadline() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.fifo) > 0 && r.byID[r.fifo[0].id] != r.fifo[0] {
		r.fifo[0] = nil
		r.fifo = r.fifo[1:]
	}
	if len(r.fifo) == 0 {
		return time.Time{}
	}
	return r.fifo[0].accepted.Add(r.srv.opts.HandshakeFirstByteTimeout)
}

// close empties the room for Shutdown and returns the connections it
// held, for the caller to drop; the loop ends.
func (r *waitRoom) close() []*pendingConn {
	r.once.Do(func() {}) // a room never used stays unused
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || !r.ok {
		r.closed = true
		return nil
	}
	r.closed = true
	left := make([]*pendingConn, 0, len(r.byID))
	for id := range r.byID {
		left = append(left, r.takeLocked(id))
	}
	r.fifo = nil
	syscall.Write(r.wake[1], []byte{0})
	return left
}

// wait blocks until loop has returned (after close).
func (r *waitRoom) wait() {
	if r.done != nil {
		<-r.done
	}
}
