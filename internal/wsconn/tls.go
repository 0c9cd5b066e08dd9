package wsconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// tlsChunk bounds the plaintext a flush hands crypto/tls in one Write: the
// frames of a batch are coalesced into buffers of up to this size (crypto/tls
// cuts them into records of at most 16 KiB), since crypto/tls has no
// vectored write.
const tlsChunk = 64 << 10

// errWouldBlock is what tlsTransport.Read returns when the socket holds
// nothing more: a net.Error whose Timeout and Temporary are true, which
// crypto/tls passes up without recording it as the connection's permanent
// error (crypto/tls/conn.go, readRecordOrCCS: `if e, ok := err.(net.Error);
// !ok || !e.Temporary() { c.in.setErrorLocked(err) }`), keeping the bytes of
// a partial record it has read so far in its raw input buffer.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "wsconn: read would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// tlsTransport is the net.Conn under a connection's *tls.Conn. During the
// handshake (TLS and HTTP upgrade) it reads the TCP connection as usual,
// blocking, under the handshake deadline. Once nonblock is set, before the
// descriptor goes to the poller, each Read is one non-blocking read(2) on
// the descriptor that answers errWouldBlock instead of waiting: a worker
// reads through the tls.Conn until it sees that error, by which point
// crypto/tls holds no complete record it has not returned (see the package
// doc, "TLS"). Writes, deadlines and Close are the TCP connection's.
type tlsTransport struct {
	net.Conn
	rc       syscall.RawConn
	nonblock bool // set once, before the poller first reports the socket

	// The read in progress, for readFn (bound once, so a read allocates
	// nothing). Only the worker serving the connection reads.
	p      []byte
	n      int
	err    error
	readFn func(uintptr) bool
}

func newTLSTransport(nc net.Conn, rc syscall.RawConn) *tlsTransport {
	t := &tlsTransport{Conn: nc, rc: rc}
	t.readFn = t.rawRead
	return t
}

func (t *tlsTransport) rawRead(fd uintptr) bool {
	for {
		t.n, t.err = rawRead(int(fd), t.p)
		if t.err != syscall.EINTR {
			return true
		}
	}
}

// Read reads from the TCP connection: blocking before nonblock is set,
// then without ever waiting.
func (t *tlsTransport) Read(p []byte) (int, error) {
	if !t.nonblock {
		return t.Conn.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	t.p = p
	err := t.rc.Read(t.readFn)
	n, rerr := t.n, t.err
	t.p = nil
	switch {
	case err != nil:
		return 0, err
	case rerr == syscall.EAGAIN:
		return 0, errWouldBlock
	case rerr != nil:
		return 0, rerr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// startTLS runs the server side of the TLS handshake on c's socket with
// cfg, under the deadline the caller set.
func (c *Conn) StartTLS(cfg *tls.Config) error {
	rc, err := c.rawConn()
	if err != nil {
		return err
	}
	c.tc = tls.Server(newTLSTransport(c.nc, rc), cfg)
	if err := c.tc.Handshake(); err != nil {
		return fmt.Errorf("wsconn: TLS handshake: %w", err)
	}
	return nil
}

// readTLS reads decrypted bytes into p. A read that
// would block reports syscall.EAGAIN, as the plain path does.
func (c *Conn) readTLS(p []byte) (int, error) {
	n, err := c.tc.Read(p)
	if n > 0 {
		c.lastRead.Store(time.Now().UnixNano())
	}
	if errors.Is(err, errWouldBlock) {
		err = syscall.EAGAIN
	}
	return n, err
}

// writeTLS writes a batch through crypto/tls, coalesced into as few Writes
// of at most tlsChunk bytes as the batch allows (in a buffer borrowed for
// the flush, so an idle connection keeps none); a frame that large on its
// own is written as is. The caller set the write deadline.
func (c *Conn) writeTLS(batch []outFrame) error {
	bp := c.t.tlsBufs.Get().(*[tlsChunk]byte)
	defer c.t.tlsBufs.Put(bp)
	buf := bp[:0]
	for _, f := range batch {
		if len(buf) > 0 && len(buf)+len(f.b) > tlsChunk {
			if err := c.writeTLSChunk(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		if len(f.b) >= tlsChunk {
			if err := c.writeTLSChunk(f.b); err != nil {
				return err
			}
			continue
		}
		buf = append(buf, f.b...)
	}
	if len(buf) > 0 {
		return c.writeTLSChunk(buf)
	}
	return nil
}

// writeTLSChunk writes b through crypto/tls and counts the bytes it took.
func (c *Conn) writeTLSChunk(b []byte) error {
	n, err := c.tc.Write(b)
	addBytes(&c.wbytes, n)
	return err
}
