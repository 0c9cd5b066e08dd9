//go:build linux

package uring

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's ABI (include/uapi/linux/io_uring.h).
const (
	opNop     = 0
	opWritev  = 2
	opSendmsg = 9

	setupSQPoll    = 1 << 1
	setupSubmitAll = 1 << 7

	enterGetEvents = 1 << 0
	enterSQWakeup  = 1 << 1

	sqNeedWakeup = 1 << 0

	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

// params is struct io_uring_params.
type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

// sqe is struct io_uring_sqe (64 bytes).
type sqe struct {
	opcode, flags uint8
	ioprio        uint16
	fd            int32
	off, addr     uint64
	len, opFlags  uint32
	userData      uint64
	bufIndex      uint16
	personality   uint16
	spliceFdIn    int32
	addr3, pad    uint64
}

// cqe is struct io_uring_cqe (16 bytes).
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// Params configures New.
type Params struct {
	// Entries is the size of the submission ring, rounded up to a power
	// of two by the kernel; the completion ring is twice as large.
	// Default 256.
	Entries uint32
	// SQPoll asks for a kernel thread that polls the submission ring, so
	// that a submission needs no system call while it runs. It spins on a
	// CPU for SQIdle after the last submission, then sleeps until woken.
	// Default off.
	SQPoll bool
	// SQIdle is the SQPoll thread's idle time before it sleeps. Default
	// the kernel's (1s).
	SQIdle time.Duration
}

// Ring is one io_uring instance: its descriptor and the rings shared with
// the kernel. See the package doc for its concurrency contract.
type Ring struct {
	fd     int
	maps   *mappings
	sqpoll bool

	sqHead, sqTail, sqFlags *uint32
	sqMask, sqEntries       uint32
	sqArray                 []uint32
	sqes                    []sqe
	tail                    uint32 // the next entry's index; entries up to it are queued

	cqHead, cqTail *uint32
	cqMask         uint32
	cqEntries      uint32
	cqes           []cqe

	inflight uint32 // operations submitted (or queued) and not yet reaped
}

// mappings are the ring's kernel resources, closed by Close or, for a
// Ring never closed, by the cleanup that runs when it is collected.
type mappings struct {
	fd             int
	sq, cq, sqeMem []byte
	closed         atomic.Bool
}

func (m *mappings) release() error {
	if !m.closed.CompareAndSwap(false, true) {
		return nil
	}
	for _, b := range [][]byte{m.sqeMem, m.cq, m.sq} {
		if b != nil {
			unix.Munmap(b)
		}
	}
	return unix.Close(m.fd)
}

// New sets up a ring with io_uring_setup(2). It fails where io_uring is
// not available (see the package doc); the error wraps the errno.
func New(p Params) (*Ring, error) {
	if p.Entries == 0 {
		p.Entries = 256
	}
	var kp params
	kp.flags = setupSubmitAll
	if p.SQPoll {
		kp.flags |= setupSQPoll
		kp.sqThreadIdle = uint32(p.SQIdle / time.Millisecond)
	}
	fd, _, e := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(p.Entries), uintptr(unsafe.Pointer(&kp)), 0)
	if e == unix.EINVAL && kp.flags&setupSubmitAll != 0 {
		// Before Linux 5.18: no IORING_SETUP_SUBMIT_ALL; submission then
		// stops at an entry that fails to be issued, which Submit sees as
		// fewer submitted and finishes.
		kp = params{flags: kp.flags &^ setupSubmitAll, sqThreadIdle: kp.sqThreadIdle}
		fd, _, e = unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(p.Entries), uintptr(unsafe.Pointer(&kp)), 0)
	}
	if e != 0 {
		return nil, fmt.Errorf("uring: io_uring_setup: %w", e)
	}
	m := &mappings{fd: int(fd)}
	r := &Ring{fd: int(fd), maps: m, sqpoll: p.SQPoll}
	if err := r.mmap(&kp); err != nil {
		m.release()
		return nil, err
	}
	runtime.AddCleanup(r, func(m *mappings) { m.release() }, m)
	return r, nil
}

func (r *Ring) mmap(p *params) error {
	m := r.maps
	var err error
	sqLen := int(p.sqOff.array + p.sqEntries*4)
	if m.sq, err = unix.Mmap(m.fd, offSQRing, sqLen, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fmt.Errorf("uring: mmap of the submission ring: %w", err)
	}
	cqLen := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(cqe{})))
	if m.cq, err = unix.Mmap(m.fd, offCQRing, cqLen, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fmt.Errorf("uring: mmap of the completion ring: %w", err)
	}
	sqeLen := int(p.sqEntries * uint32(unsafe.Sizeof(sqe{})))
	if m.sqeMem, err = unix.Mmap(m.fd, offSQEs, sqeLen, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		return fmt.Errorf("uring: mmap of the submission entries: %w", err)
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqHead, r.sqTail, r.sqFlags = u32(m.sq, p.sqOff.head), u32(m.sq, p.sqOff.tail), u32(m.sq, p.sqOff.flags)
	r.sqMask, r.sqEntries = *u32(m.sq, p.sqOff.ringMask), *u32(m.sq, p.sqOff.ringEntries)
	r.sqArray = unsafe.Slice(u32(m.sq, p.sqOff.array), r.sqEntries)
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&m.sqeMem[0])), r.sqEntries)
	r.tail = *r.sqTail
	r.cqHead, r.cqTail = u32(m.cq, p.cqOff.head), u32(m.cq, p.cqOff.tail)
	r.cqMask, r.cqEntries = *u32(m.cq, p.cqOff.ringMask), *u32(m.cq, p.cqOff.ringEntries)
	r.cqes = unsafe.Slice((*cqe)(unsafe.Pointer(&m.cq[p.cqOff.cqes])), r.cqEntries)
	return nil
}

// Close releases the ring. Operations submitted and not reaped still
// complete in the kernel; their memory must outlive them.
func (r *Ring) Close() error {
	if r.maps.closed.Load() {
		return ErrClosed
	}
	return r.maps.release()
}

// Entries reports the size of the submission ring: the most operations
// queued at once.
func (r *Ring) Entries() int { return int(r.sqEntries) }

// Free reports how many more operations may be queued now: room in the
// submission ring, and in the completion ring for all of them.
func (r *Ring) Free() int {
	queued := r.tail - atomic.LoadUint32(r.sqHead)
	return int(min(r.sqEntries-queued, r.cqEntries-r.inflight))
}

// get returns the next free submission entry, zeroed, or nil when the
// ring is full.
func (r *Ring) get() *sqe {
	if r.Free() <= 0 {
		return nil
	}
	i := r.tail & r.sqMask
	e := &r.sqes[i]
	*e = sqe{}
	r.sqArray[i] = i
	r.tail++
	r.inflight++
	return e
}

// PrepSendmsg queues a sendmsg(2) of msg to the socket fd with flags
// (unix.MSG_DONTWAIT for a write that never waits for room; then a full
// socket completes with -EAGAIN, a partly full one with the bytes it
// took). It reports false, queuing nothing, when the ring is full.
func (r *Ring) PrepSendmsg(fd int32, msg *unix.Msghdr, flags uint32, userData uint64) bool {
	e := r.get()
	if e == nil {
		return false
	}
	e.opcode, e.fd, e.len, e.opFlags, e.userData = opSendmsg, fd, 1, flags, userData
	e.addr = uint64(uintptr(unsafe.Pointer(msg)))
	return true
}

// PrepWritev queues a writev(2) of iov to fd (a stream: no offset). Unlike
// writev(2) on a non-blocking socket, it waits for room: io_uring polls a
// full socket whatever its O_NONBLOCK says, so a write that must not wait
// is PrepSendmsg with unix.MSG_DONTWAIT. It reports false, queuing
// nothing, when the ring is full.
func (r *Ring) PrepWritev(fd int32, iov []unix.Iovec, userData uint64) bool {
	e := r.get()
	if e == nil {
		return false
	}
	e.opcode, e.fd, e.len, e.userData = opWritev, fd, uint32(len(iov)), userData
	if len(iov) > 0 {
		e.addr = uint64(uintptr(unsafe.Pointer(&iov[0])))
	}
	return true
}

// PrepNop queues an operation that does nothing and completes with 0.
func (r *Ring) PrepNop(userData uint64) bool {
	e := r.get()
	if e == nil {
		return false
	}
	e.opcode, e.userData = opNop, userData
	return true
}

// Submit hands the queued operations to the kernel with one
// io_uring_enter(2) (none with SQPoll while its thread is awake) and
// returns how many it took.
func (r *Ring) Submit() (int, error) { return r.enter(0, false) }

// SubmitAndWait submits like Submit and waits, in the same system call,
// until at least want completions are ready to reap.
func (r *Ring) SubmitAndWait(want uint32) (int, error) { return r.enter(want, true) }

func (r *Ring) enter(want uint32, wait bool) (int, error) {
	if r.maps.closed.Load() {
		return 0, ErrClosed
	}
	pending := r.tail - atomic.LoadUint32(r.sqHead)
	atomic.StoreUint32(r.sqTail, r.tail) // publishes the entries' plain writes
	var flags uintptr
	toSubmit := pending
	if r.sqpoll {
		toSubmit = 0 // the kernel thread reads the tail itself
		if atomic.LoadUint32(r.sqFlags)&sqNeedWakeup != 0 {
			flags |= enterSQWakeup
		} else if !wait {
			return int(pending), nil
		}
	}
	if wait {
		flags |= enterGetEvents
		if ready := atomic.LoadUint32(r.cqTail) - *r.cqHead; ready >= want && !r.sqpoll && toSubmit == 0 {
			return 0, nil
		}
	}
	for {
		n, _, e := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(want), flags, 0, 0)
		switch e {
		case 0:
			if r.sqpoll {
				return int(pending), nil
			}
			return int(n), nil
		case unix.EINTR:
			// Interrupted before it submitted anything (it returns the
			// count when it submitted some): what is left is still queued.
			if !r.sqpoll {
				toSubmit = r.tail - atomic.LoadUint32(r.sqHead)
			}
			continue
		default:
			return 0, fmt.Errorf("uring: io_uring_enter: %w", e)
		}
	}
}

// Reap calls fn for each completion ready, in the order the kernel
// posted them, with the user data of its operation and its result: bytes
// written, or a negated errno (-int32(unix.EAGAIN)). It returns how many
// it reaped.
func (r *Ring) Reap(fn func(userData uint64, res int32)) int {
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail) // orders the reads of the entries after it
	n := 0
	for ; head != tail; head++ {
		c := r.cqes[head&r.cqMask]
		atomic.StoreUint32(r.cqHead, head+1)
		r.inflight--
		n++
		fn(c.userData, c.res)
	}
	return n
}

// Inflight reports the operations queued or submitted and not yet reaped.
func (r *Ring) Inflight() int { return int(r.inflight) }
