//go:build linux

package wsconn

import (
	"errors"
	"sync"
	"syscall"
)

// readEvents arms a descriptor for one read notification: EPOLLONESHOT makes
// sure at most one worker handles a connection at a time; the worker re-arms
// it when it is done, so one publisher's events stay in order
// (docs/protocol.md#ordering).
const readEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// errPollerClosed is what the poller answers once the transport is closed.
var errPollerClosed = errors.New("wsconn: poller closed")

// poller watches connections for readability with one epoll instance and
// one goroutine that waits on it. A connection is found from its event by
// descriptor number, in a table indexed by it: a pointer per descriptor
// number, rather than a map entry and a callback per connection.
type poller struct {
	ep, wake int // the epoll instance; an eventfd that ends the wait
	onErr    func(error)
	done     chan struct{} // closed when the wait goroutine has returned

	mu     sync.RWMutex
	conns  []*Conn // by descriptor number; nil where none is watched
	closed bool
}

func newPoller(onErr func(error)) (*poller, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	r, _, e := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if e != 0 {
		syscall.Close(ep)
		return nil, e
	}
	wake := int(r)
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, wake,
		&syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(wake)}); err != nil {
		syscall.Close(ep)
		syscall.Close(wake)
		return nil, err
	}
	p := &poller{ep: ep, wake: wake, onErr: onErr, done: make(chan struct{})}
	go p.wait()
	return p, nil
}

// add starts watching c; c.onReadable is scheduled on each notification.
func (p *poller) add(c *Conn) error {
	fd := int(c.fd)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errPollerClosed
	}
	if fd >= len(p.conns) {
		grown := make([]*Conn, max(2*len(p.conns), fd+1, 1024))
		copy(grown, p.conns)
		p.conns = grown
	}
	if p.conns[fd] != nil {
		return errors.New("wsconn: descriptor already watched")
	}
	if err := syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_ADD, fd,
		&syscall.EpollEvent{Events: readEvents, Fd: int32(fd)}); err != nil {
		return err
	}
	p.conns[fd] = c
	return nil
}

// rearm asks for the next read notification of c. The caller holds c.mu
// and has checked that c is not closed, so the descriptor is still c's.
// A descriptor that became readable while disarmed is reported at once.
func (p *poller) rearm(c *Conn) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errPollerClosed
	}
	return syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_MOD, int(c.fd),
		&syscall.EpollEvent{Events: readEvents, Fd: c.fd})
}

// remove stops watching c. The caller holds c.mu, before closing the socket.
func (p *poller) remove(c *Conn) error {
	fd := int(c.fd)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errPollerClosed
	}
	if fd < 0 || fd >= len(p.conns) || p.conns[fd] != c {
		return nil // never added (closed before Start, or no descriptor)
	}
	p.conns[fd] = nil
	return syscall.EpollCtl(p.ep, syscall.EPOLL_CTL_DEL, fd, nil)
}

// close ends the wait goroutine and closes the epoll instance; the
// connections are no longer read.
func (p *poller) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errPollerClosed
	}
	p.closed = true
	one := [8]byte{1}
	_, err := syscall.Write(p.wake, one[:])
	p.mu.Unlock()
	if err != nil {
		return err
	}
	<-p.done
	return syscall.Close(p.wake)
}

// wait is the poller's goroutine: it turns readiness into tasks for the
// pool. schedule may block while every worker is busy: that is the
// back-pressure the poller feels.
func (p *poller) wait() {
	defer close(p.done)
	defer syscall.Close(p.ep)
	events := make([]syscall.EpollEvent, 1024)
	ready := make([]*Conn, 0, len(events))
	for {
		n, err := syscall.EpollWait(p.ep, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			p.onErr(err)
			return
		}
		p.mu.RLock()
		for _, ev := range events[:n] {
			fd := int(ev.Fd)
			if fd == p.wake {
				p.mu.RUnlock()
				return
			}
			if fd < len(p.conns) && p.conns[fd] != nil {
				ready = append(ready, p.conns[fd])
			}
		}
		p.mu.RUnlock()
		for i, c := range ready {
			c.t.pool.schedule(c)
			ready[i] = nil
		}
		ready = ready[:0]
		if n == len(events) && n < 1<<15 {
			events = make([]syscall.EpollEvent, 2*n)
		}
	}
}
