package gen

import (
	"errors"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/tagwamp/tagwamp/bench/internal/wire"
)

// readBufSize is a loop's read buffer: what one read(2) may take.
const readBufSize = 64 << 10

// loop is one epoll instance and the goroutine that waits on it. Its
// counters and histogram are guarded by mu, which the goroutine holds
// while it handles a batch of ready connections.
type loop struct {
	w    *worker
	epfd int
	buf  []byte
	fr   wire.FrameReader
	now  int64 // wall clock in ns at the current read
	cur  *conn // the connection being read

	frameFn   func(ws.OpCode, []byte) // l.frame and l.message, bound once
	messageFn func([]byte)

	mu         sync.Mutex
	hist       *hdr.Histogram
	deliveries int64
	echoes     int64
	results    int64
	errors     int64
	closed     int64
}

func newLoop(w *worker) (*loop, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	l := &loop{w: w, epfd: fd, buf: make([]byte, readBufSize), hist: NewHistogram()}
	l.frameFn, l.messageFn = l.frame, l.message
	return l, nil
}

// add registers c (level-triggered reads) under its index in w.conns.
func (l *loop) add(c *conn, index int) error {
	c.loop = l
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(index)}
	return unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev)
}

// run waits and reads until the process ends. It blocks in epoll_wait
// on a thread of its own: the kernel wakes that thread, on the CPU that
// wrote as often as not, where waiting through the runtime's poller woke
// another and put one call in flight's round trip at 110-125 us instead
// of 15 us; the price is a tail of the generator's own when its loops
// share one CPU (bench/RESULTS.md, "The generator's own tail"). While
// it blocks, its P is in a system call: were every P so held, the
// runtime's monitor would keep taking them back and starting threads for
// them, so the harness gives callers one loop (tagwamp-bench's loops).
func (l *loop) run() {
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(l.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		l.mu.Lock()
		for _, ev := range events[:n] {
			if c := l.w.conns[ev.Fd].Load(); c != nil {
				l.read(c)
			}
		}
		l.mu.Unlock()
	}
}

// read takes what c's socket holds, once, and handles its whole frames.
// It assumes l.mu.
func (l *loop) read(c *conn) {
	n, err := rawRead(c.fd, l.buf)
	if err == unix.EAGAIN || err == unix.EINTR {
		return
	}
	if err != nil || n == 0 {
		l.drop(c)
		return
	}
	l.now = time.Now().UnixNano()
	l.cur = c
	data := l.buf[:n]
	if len(c.pend) > 0 {
		c.pend = append(c.pend, data...)
		data = c.pend
	}
	used, _, err := l.fr.Parse(data, l.frameFn)
	if err != nil {
		l.errors++
		l.drop(c)
		return
	}
	if c.owed > 0 {
		l.w.sendMany(c, c.owed, false)
		c.owed = 0
	}
	rest := data[used:]
	switch {
	case len(rest) == 0:
		c.pend = c.pend[:0]
	case len(c.pend) > 0:
		c.pend = c.pend[:copy(c.pend, rest)]
	default:
		c.pend = append(c.pend[:0], rest...)
	}
	if cap(c.pend) > readBufSize && len(c.pend) == 0 {
		c.pend = nil
	}
}

// frame handles one server frame of l.cur.
func (l *loop) frame(op ws.OpCode, payload []byte) {
	switch op {
	case ws.OpText, ws.OpBinary:
		l.w.proto.Split(payload, l.messageFn)
	case ws.OpPing:
		c := l.cur
		c.wmu.Lock()
		c.wbuf = append(c.wbuf[:0], 0x80|byte(ws.OpPong), 0x80|byte(len(payload)))
		c.wbuf = append(c.wbuf, c.mask[:]...)
		off := len(c.wbuf)
		c.wbuf = append(c.wbuf, payload...)
		ws.Cipher(c.wbuf[off:], c.mask, 0)
		c.write(c.wbuf)
		c.wmu.Unlock()
	case ws.OpClose:
		l.drop(l.cur)
	}
}

// message handles one protocol message of l.cur, as its role says.
func (l *loop) message(msg []byte) {
	w := l.w
	switch w.proto.Classify(msg) {
	case wire.KindEvent:
		if w.spec.Role == RolePublisher {
			_, pub, _, err := wire.ParseStamp(msg)
			if err == nil && pub == l.cur.id {
				l.echoes++
				w.answered(l.cur)
			}
			return
		}
		l.deliveries++
		pub, seq, ok := l.record(msg)
		if ok && w.board != nil {
			if err := w.board.delivered(pub, seq); err != nil {
				w.fail(err.Error())
			}
		}
	case wire.KindResult:
		if w.spec.Role == RoleCaller {
			l.results++
			l.record(msg)
			w.answered(l.cur)
		}
	case wire.KindError:
		l.errors++
	}
}

// record adds the latency of msg's timestamp (the receiver's clock minus
// the sender's) and returns its sender and sequence number.
func (l *loop) record(msg []byte) (pub int, seq uint32, ok bool) {
	ts, pub, seq, err := wire.ParseStamp(msg)
	if err != nil {
		l.errors++
		return 0, 0, false
	}
	d := l.now - ts
	if d < 1 {
		d = 1
	}
	if l.hist.RecordValue(d) != nil {
		l.hist.RecordValue(l.hist.HighestTrackableValue())
	}
	return pub, seq, true
}

// drop forgets a connection the server closed.
func (l *loop) drop(c *conn) {
	if c.fd < 0 {
		return
	}
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	c.wmu.Lock()
	unix.Close(c.fd)
	c.fd = -1
	c.wmu.Unlock()
	l.closed++
}
