//go:build linux

package wsconn

import (
	"net"
	"syscall"
	"unsafe"
)

// maxIOV is the kernel's limit on the iovecs of one writev (IOV_MAX).
const maxIOV = 1024

// wscratch is the scratch of non-blocking writevs: the iovecs of the batch
// being written and the outcome, for rawWritev (bound once, so a write
// allocates nothing).
type wscratch struct {
	iov  []syscall.Iovec
	rest []syscall.Iovec // the part of iov not yet written
	n    int
	err  syscall.Errno
	fn   func(uintptr) bool
	rs   *ringScratch // the io_uring flush's, made on its first use
}

// writeRaw writes batch to c's descriptor with writev, never waiting for
// the socket: it returns the bytes the kernel took, which may be fewer
// than total when the socket buffer is full.
func (c *Conn) writeRaw(s *wscratch, batch []outFrame) (n, total int, err error) {
	if s.fn == nil {
		s.fn = s.rawWritev
	}
	iov := s.iov[:0]
	for _, f := range batch {
		if len(f.b) == 0 {
			continue
		}
		v := syscall.Iovec{Base: unsafe.SliceData(f.b)}
		v.SetLen(len(f.b))
		iov = append(iov, v)
		total += len(f.b)
	}
	s.iov, s.rest, s.n, s.err = iov, iov, 0, 0
	// The descriptor is held against a concurrent Close (fdAcquire, or
	// RawConn.Write before Detach); rawWritev returns true, so the
	// runtime never waits for writability.
	if c.detached {
		if c.fdAcquire() {
			s.rawWritev(uintptr(c.fd))
			c.fdRelease()
		} else {
			err = net.ErrClosed
		}
	} else if rc, rerr := c.rawConn(); rerr != nil {
		err = rerr
	} else {
		err = rc.Write(s.fn)
	}
	clear(iov) // the iovecs point into frames the queue releases
	switch {
	case err != nil:
	case s.err != 0 && s.err != syscall.EAGAIN:
		err = s.err
	}
	return s.n, total, err
}

// rawWritev writes s.rest with as many writevs as it takes, stopping at
// the first that the socket does not take whole.
func (s *wscratch) rawWritev(fd uintptr) bool {
	for len(s.rest) > 0 {
		chunk := s.rest[:min(len(s.rest), maxIOV)]
		want := 0
		for i := range chunk {
			want += int(chunk[i].Len)
		}
		r, e := rawWritevFD(fd, chunk)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			s.err = e
			return true
		}
		s.n += r
		if r < want {
			return true // the socket buffer is full
		}
		s.rest = s.rest[len(chunk):]
	}
	return true
}
