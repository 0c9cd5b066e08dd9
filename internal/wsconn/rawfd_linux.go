//go:build linux

package wsconn

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// DetachFD takes a connection's descriptor out of Go's
// runtime poller: the socket is duplicated (close-on-exec, non-blocking
// like the original), the net.Conn is closed, and from here on the
// connection reads and writes the duplicate with raw system calls, its
// only poller being the transport's epoll. An idle connection then holds
// no net.TCPConn (its netFD, its two addresses, the accept's sockaddr)
// and no runtime pollDesc. A blocking operation (a write to a full socket
// under WriteTimeout, the linger of finishClose) makes a net.Conn over
// another duplicate for its duration (blockingConn).
//
// Call it once the handshake is over and before anything else can use
// the connection (before Start, before the connection can be written to
// from another goroutine). NetConn returns nil afterwards. It does
// nothing to a TLS connection (crypto/tls writes through the net.Conn) or
// to one without a descriptor.
func (c *Conn) DetachFD() error {
	if c.tc != nil || c.fd < 0 || c.detached {
		return nil
	}
	rc, err := c.rawConn()
	if err != nil {
		return err
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) { nfd, derr = dupCloexec(int(fd)) }); err != nil {
		return fmt.Errorf("wsconn: detach: %w", err)
	}
	if derr != nil {
		return fmt.Errorf("wsconn: detach: %w", derr)
	}
	c.nc.Close()
	c.nc, c.fd, c.detached = nil, int32(nfd), true
	return nil
}

func dupCloexec(fd int) (int, error) {
	for {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// fdClosedBit marks, in Conn.fdRefs, a detached descriptor that is closed
// or to be closed by its last user.
const fdClosedBit = 1 << 62

// fdAcquire holds a detached connection's descriptor open for one system
// call, the way Go's poller holds its own: Abort closes it only once no
// call uses it, so that a read or write never lands on a descriptor
// number the kernel has given to another connection. It reports false
// once the descriptor is closed.
func (c *Conn) fdAcquire() bool {
	for {
		v := c.fdRefs.Load()
		if v&fdClosedBit != 0 {
			return false
		}
		if c.fdRefs.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

// fdRelease ends an fdAcquire; the last user of a descriptor Abort has
// closed closes it.
func (c *Conn) fdRelease() {
	if c.fdRefs.Add(-1) == fdClosedBit {
		syscall.Close(int(c.fd))
	}
}

// closeSocket closes the connection's socket: the net.Conn, or a detached
// descriptor, which is shut down at once (ending a blocking write that a
// blockingConn is waiting in) and closed when its last system call ends.
func (c *Conn) closeSocket() {
	if !c.detached {
		c.nc.Close()
		return
	}
	if c.fdAcquire() {
		syscall.Shutdown(int(c.fd), syscall.SHUT_RDWR)
		c.fdRelease()
	}
	for {
		v := c.fdRefs.Load()
		if v&fdClosedBit != 0 {
			return
		}
		if c.fdRefs.CompareAndSwap(v, v|fdClosedBit) {
			if v == 0 {
				syscall.Close(int(c.fd))
			}
			return
		}
	}
}

// readFD is one non-blocking read(2) of the socket into p.
func (c *Conn) readFD(w *Worker, p []byte) (int, error) {
	if !c.detached {
		return c.readPolled(w, p)
	}
	if !c.fdAcquire() {
		return 0, net.ErrClosed
	}
	var n int
	var err error
	for {
		n, err = rawRead(int(c.fd), p)
		if err != syscall.EINTR {
			break
		}
	}
	c.fdRelease()
	return n, err
}

// blockingConn returns a net.Conn on Go's poller over the connection's
// socket, for a blocking write or read under a deadline: its own, or, for
// a detached connection, one over a duplicate of the descriptor, which the
// caller closes (own) when done.
func (c *Conn) blockingConn() (nc net.Conn, own bool, err error) {
	if !c.detached {
		return c.nc, false, nil
	}
	if !c.fdAcquire() {
		return nil, false, net.ErrClosed
	}
	fd, err := dupCloexec(int(c.fd))
	c.fdRelease()
	if err != nil {
		return nil, false, err
	}
	f := os.NewFile(uintptr(fd), "")
	nc, err = net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, false, err
	}
	return nc, true, nil
}
