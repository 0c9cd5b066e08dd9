//go:build linux

package wsconn

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// readEvents arms a descriptor for one read notification: EPOLLONESHOT makes
// sure at most one worker handles a connection at a time; the worker re-arms
// it when it is done, so one publisher's events stay in order
// (docs/protocol.md#ordering).
const readEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// pollEvents is how many readiness events one epoll_wait takes at most.
const pollEvents = 128

// errPollerClosed is returned by add and rearm after close.
var errPollerClosed = errors.New("wsconn: poller closed")

// poller watches connections for readability with one epoll instance of
// its own. It registers each connection's own descriptor, obtained through
// syscall.RawConn: one descriptor per connection.
//
// The epoll descriptor is itself watched by the runtime's poller (an
// *os.File in non-blocking mode, read through its RawConn): the goroutine
// that waits on it (loop) parks like any goroutine waiting for a socket
// rather than holding a thread in a blocking epoll_wait. The readiness of a
// connection then wakes one thread, the one the runtime has waiting in its
// own poller; a thread blocked in epoll_wait instead woke twice (its own
// wake-up, then the worker's) and left the worker queued on a processor
// it held in a system call (bench/RESULTS.md, "Where a call's round trip
// goes").
//
// loop hands every ready connection but the last to the pool and reads
// the last itself, as the leader: no goroutine is woken for it. While it
// leads, nobody waits on the epoll instance, so anything that may take
// long calls handoff first (Worker.Detach before a handler that may block,
// Worker.Handoff, Conn.Abort before the close hooks, a long run of frames):
// a new loop goroutine waits from then on, and the old one ends with its
// task.
//
// Events carry the descriptor number, and a connection is found from its
// event in a table indexed by it (a pointer per descriptor number, rather
// than a map entry per connection); mu orders a registration's removal
// (under Conn.mu, before the socket closes) before any lookup of a number
// the kernel reuses, and Conn.reading drops a stale event that still
// reaches a new connection with that number.
type poller struct {
	epfd  int
	ep    *os.File        // epfd, for the runtime's poller; owns it
	rc    syscall.RawConn // ep's
	pool  *pool
	onErr func(error)
	done  chan struct{} // closed when a loop sees the poller closed
	once  sync.Once     // closes done

	// leading is set while a loop goroutine reads a connection itself;
	// handoff clears it and starts the next loop goroutine.
	leading atomic.Bool
	// spare hands the waiting to a former leader that finished its task
	// and waits for it again (idle for at most WorkerIdle), so that a
	// handoff wakes a goroutine whose stack has grown rather than start
	// one; quit, closed by close, ends those that wait.
	spare chan struct{}
	quit  chan struct{}

	mu     sync.RWMutex
	closed bool
	conns  []*Conn // by descriptor number; nil where none is watched
}

func newPoller(pool *pool, onErr func(error)) (watcher, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("wsconn: epoll_create1: %w", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("wsconn: epoll descriptor: %w", err)
	}
	ep := os.NewFile(uintptr(epfd), "wsconn epoll")
	if err := ep.SetReadDeadline(time.Time{}); err != nil { // fails unless the runtime polls it
		ep.Close()
		return nil, fmt.Errorf("wsconn: epoll descriptor not pollable: %w", err)
	}
	rc, err := ep.SyscallConn()
	if err != nil {
		ep.Close()
		return nil, fmt.Errorf("wsconn: epoll descriptor: %w", err)
	}
	p := &poller{epfd: epfd, ep: ep, rc: rc, pool: pool, onErr: onErr, done: make(chan struct{}),
		spare: make(chan struct{}), quit: make(chan struct{})}
	go p.loop()
	return p, nil
}

// loop waits for readiness, hands the ready connections but the last to
// the pool and reads the last itself, until close, or until it handed
// the waiting off while it read (handoff).
func (p *poller) loop() {
	events := make([]syscall.EpollEvent, pollEvents)
	ready := make([]*Conn, 0, pollEvents)
	var n int
	var werr error
	var w *Worker                   // this goroutine's, made for its first task
	var idle *time.Timer            // await's
	wait := func(fd uintptr) bool { // false: nothing yet, park until epfd is readable
		n, werr = rawEpollPoll(int(fd), events)
		return n != 0 || werr != nil && werr != syscall.EINTR
	}
	for {
		n, werr = 0, nil
		err := p.rc.Read(wait)
		p.mu.RLock()
		if p.closed {
			p.mu.RUnlock()
			p.once.Do(func() { close(p.done) })
			return
		}
		if err == nil && werr != nil && werr != syscall.EINTR {
			err = fmt.Errorf("wsconn: epoll_wait: %w", werr)
		}
		if err != nil {
			p.mu.RUnlock()
			p.onErr(err)
			time.Sleep(10 * time.Millisecond) // no busy loop on a persistent error
			continue
		}
		for _, ev := range events[:n] {
			if fd := int(ev.Fd); fd < len(p.conns) && p.conns[fd] != nil {
				ready = append(ready, p.conns[fd])
			}
		}
		p.mu.RUnlock()
		if len(ready) == 0 {
			continue
		}
		last := ready[len(ready)-1]
		for i, c := range ready[:len(ready)-1] {
			p.pool.schedule(c)
			ready[i] = nil
		}
		ready[len(ready)-1] = nil
		ready = ready[:0]
		if w == nil {
			w = p.pool.newWorker()
			w.pool = p.pool
		}
		w.lead = p
		p.leading.Store(true)
		last.run(w)
		w.lead = nil
		if !p.leading.CompareAndSwap(true, false) && !p.await(&idle) {
			return // handed off, and not needed again for WorkerIdle
		}
	}
}

// handoff makes sure that a goroutine waits for readiness while the
// leader reads: it wakes a former leader waiting in await, or starts a
// loop goroutine, if the leader has not handed off already. Any goroutine
// may call it; called when nobody leads it does nothing.
func (p *poller) handoff() {
	if p.leading.Load() && p.leading.CompareAndSwap(true, false) {
		select {
		case p.spare <- struct{}{}:
		default:
			go p.loop()
		}
	}
}

// await is a former leader waiting to wait for readiness again (handoff);
// false after WorkerIdle without, or once the poller is closed. idle is
// the caller's timer, made on first use.
func (p *poller) await(idle **time.Timer) bool {
	if *idle == nil {
		*idle = time.NewTimer(WorkerIdle)
	} else {
		(*idle).Reset(WorkerIdle)
	}
	select {
	case <-p.spare:
		(*idle).Stop()
		return true
	case <-(*idle).C:
		return false
	case <-p.quit:
		(*idle).Stop()
		return false
	}
}

// add starts watching c; c.onReadable is scheduled on each notification.
// The caller holds c.mu.
func (p *poller) add(c *Conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errPollerClosed
	}
	fd := int(c.fd)
	if fd < 0 {
		return errors.New("wsconn: connection has no descriptor")
	}
	if fd >= len(p.conns) {
		grown := make([]*Conn, max(2*len(p.conns), fd+1, 1024))
		copy(grown, p.conns)
		p.conns = grown
	}
	if p.conns[fd] != nil {
		return errors.New("wsconn: descriptor already watched")
	}
	if err := p.arm(syscall.EPOLL_CTL_ADD, fd); err != nil {
		return err
	}
	p.conns[fd] = c
	return nil
}

// arm registers (EPOLL_CTL_ADD) or re-arms (EPOLL_CTL_MOD) fd for one
// read notification. The caller holds p.mu.
func (p *poller) arm(op, fd int) error {
	ev := syscall.EpollEvent{Events: readEvents, Fd: int32(fd)}
	if err := rawEpollCtl(p.epfd, op, fd, &ev); err != nil {
		what := "mod"
		if op == syscall.EPOLL_CTL_ADD {
			what = "add"
		}
		return fmt.Errorf("wsconn: epoll_ctl %s: %w", what, err)
	}
	return nil
}

// rearm asks for the next read notification of c. The caller holds c.mu
// and has checked that c is not closed, so the descriptor is still c's.
func (p *poller) rearm(c *Conn) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errPollerClosed
	}
	return p.arm(syscall.EPOLL_CTL_MOD, int(c.fd))
}

// remove stops watching c. The caller holds c.mu, before closing the socket.
func (p *poller) remove(c *Conn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	fd := int(c.fd)
	if fd < 0 || fd >= len(p.conns) || p.conns[fd] != c {
		return nil // never added (closed before Start, or no descriptor)
	}
	p.conns[fd] = nil
	if p.closed {
		return nil
	}
	if err := rawEpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, fd, nil); err != nil {
		return fmt.Errorf("wsconn: epoll_ctl del: %w", err)
	}
	return nil
}

// close stops loop and closes the epoll instance; connections still
// registered are no longer read.
func (p *poller) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	close(p.quit)
	err := p.ep.Close() // wakes the loop that waits: its Read fails
	<-p.done
	return err
}
