package gen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/tagwamp/tagwamp/bench/internal/wire"
)

// errClosed is returned for a write to a connection the server closed.
var errClosed = errors.New("gen: connection closed")

// setupTimeout bounds one connection's setup.
const setupTimeout = 30 * time.Second

// writeTimeout bounds how long a write waits for room in a socket the
// server does not read: then it fails rather than hang the run.
const writeTimeout = 30 * time.Second

// conn is one client connection after setup: a raw non-blocking
// descriptor served by one loop.
type conn struct {
	id    int // global number (Spec.First + index)
	fd    int
	loop  *loop
	mask  [4]byte
	pend  []byte // an incomplete frame carried to the next read
	nsub  int    // subscriptions, for the peer's replies
	calls uint32 // next call or request id
	seq   uint32 // publications and calls sent: the payload's "seq"
	owed  int    // answers received in this read: as many to send (loop only)

	inflight atomic.Int64 // publications or calls not yet answered (or complete)

	wmu    sync.Mutex
	wbuf   []byte
	pbuf   []byte  // the payload appendNext encodes, kept so that a call or publication allocates nothing (under wmu)
	sentAt []int64 // completion: when each board slot's publication was sent (publishers; under wmu)
}

// dialer opens connections for one worker.
type dialer struct {
	spec  *Spec
	proto wire.Proto
	urls  []*url.URL // connection id dials urls[id mod len(urls)]
	next  atomic.Uint64
}

func newDialer(spec *Spec, p wire.Proto) (*dialer, error) {
	raw := spec.URLs
	if len(raw) == 0 {
		raw = []string{spec.URL}
	}
	d := &dialer{spec: spec, proto: p}
	for _, r := range raw {
		u, err := url.Parse(r + p.Path())
		if err != nil {
			return nil, fmt.Errorf("gen: url: %w", err)
		}
		d.urls = append(d.urls, u)
	}
	return d, nil
}

// dial sets connection id up: TCP from the next source address, the
// upgrade, the hello, the subscriptions topics and a barrier. It returns
// the connection with its descriptor out of Go's poller, and the time from
// the dial to the hello.
func (d *dialer) dial(ctx context.Context, id int, topics []string) (*conn, time.Duration, error) {
	src := d.spec.Sources[d.next.Add(1)%uint64(len(d.spec.Sources))]
	u := d.urls[id%len(d.urls)]
	nd := net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)},
		// No TCP keepalive: the sessions are loopback and watched by the
		// harness; Go's default (a probe every 15s per socket) costs the
		// kernel a packet and its answer per idle session.
		KeepAlive: -1,
		Control: func(_, _ string, rc syscall.RawConn) error {
			// Take the port at connect(2), not bind(2), so that source
			// ports are shared across destinations.
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	nc, err := nd.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, 0, fmt.Errorf("gen: dial from %s: %w", src, err)
	}
	ok := false
	defer func() {
		if !ok {
			nc.Close()
		}
	}()
	nc.SetDeadline(time.Now().Add(setupTimeout))
	c := &conn{id: id, mask: ws.NewMask(), nsub: len(topics)}
	br, _, err := ws.Dialer{Protocols: d.proto.Subprotocols()}.Upgrade(nc, u)
	if err != nil {
		return nil, 0, fmt.Errorf("gen: upgrade: %w", err)
	}
	var r io.Reader = nc
	if br != nil {
		r = io.MultiReader(br, nc)
	}
	var buf []byte
	if hello := d.proto.AppendHello(nil, c.mask); len(hello) > 0 {
		if _, err := nc.Write(hello); err != nil {
			return nil, 0, fmt.Errorf("gen: hello: %w", err)
		}
	}
	if err := expect(r, d.proto, buf, wire.KindHello, 1); err != nil {
		return nil, 0, err
	}
	took := time.Since(start)
	if len(topics) > 0 {
		var out []byte
		for _, t := range topics {
			c.calls++
			out = d.proto.AppendSubscribe(out, c.mask, c.calls+1, t)
		}
		c.calls++
		barrier := len(out)
		out = d.proto.AppendBarrier(out, c.mask, c.calls+1)
		if _, err := nc.Write(out); err != nil {
			return nil, 0, fmt.Errorf("gen: subscribe: %w", err)
		}
		if len(out) > barrier {
			err = expect(r, d.proto, buf, wire.KindResult, 1)
		} else {
			err = expect(r, d.proto, buf, wire.KindSubscribed, len(topics))
		}
		if err != nil {
			return nil, 0, err
		}
	}
	if br != nil && br.Buffered() > 0 {
		c.pend, _ = br.Peek(br.Buffered())
		c.pend = append([]byte(nil), c.pend...)
	}
	// Take the descriptor out of Go's poller: a duplicate shares the
	// socket (and O_NONBLOCK); closing the original deregisters it.
	sc, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		return nil, 0, err
	}
	var derr error
	if err := sc.Control(func(fd uintptr) { c.fd, derr = unix.Dup(int(fd)) }); err != nil {
		return nil, 0, err
	}
	if derr != nil {
		return nil, 0, fmt.Errorf("gen: dup: %w", derr)
	}
	nc.Close()
	ok = true
	return c, took, nil
}

// expect reads messages until n of kind have come; an error answer or
// an unexpected close fails.
func expect(r io.Reader, p wire.Proto, buf []byte, kind wire.Kind, n int) error {
	for n > 0 {
		msg, err := wire.ReadMessage(r, buf)
		if err != nil {
			return fmt.Errorf("gen: waiting for %s: %w", kind, err)
		}
		var bad []byte
		p.Split(msg, func(m []byte) {
			switch p.Classify(m) {
			case kind:
				n--
			case wire.KindError:
				bad = append(bad[:0], m...)
			}
		})
		if bad != nil {
			return fmt.Errorf("gen: waiting for %s: error answer %.200s", kind, bad)
		}
	}
	return nil
}

// write sends b whole from a non-blocking descriptor, waiting for room
// with poll(2) when the socket buffer is full. It assumes c.wmu.
func (c *conn) write(b []byte) error {
	if c.fd < 0 {
		return errClosed
	}
	var deadline time.Time
	for len(b) > 0 {
		n, err := rawWrite(c.fd, b)
		switch {
		case err == unix.EAGAIN:
			if deadline.IsZero() {
				deadline = time.Now().Add(writeTimeout)
			} else if time.Now().After(deadline) {
				return fmt.Errorf("gen: write: connection %d: no room in the socket for %s (the server does not read)", c.id, writeTimeout)
			}
			fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(fds, 1_000); err != nil && err != unix.EINTR {
				return fmt.Errorf("gen: poll: %w", err)
			}
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("gen: write: %w", err)
		}
		b = b[n:]
	}
	return nil
}
