package gen

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestRawSyscalls: the generator's raw read and write give what
// x/sys/unix's would: the bytes, EAGAIN on an empty socket, EBADF, and
// the reader's epoll sees what was written.
func TestRawSyscalls(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fds[0], fds[1]
	defer unix.Close(a)
	defer unix.Close(b)
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ep)
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, a, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(a)}); err != nil {
		t.Fatal(err)
	}
	events := make([]unix.EpollEvent, 2)
	buf := make([]byte, 16)
	if n, err := rawRead(a, buf); n != 0 || err != unix.EAGAIN {
		t.Fatalf("read of an empty socket: %d, %v; want 0, EAGAIN", n, err)
	}
	if n, err := unix.EpollWait(ep, events, 0); n != 0 || err != nil {
		t.Fatalf("poll with nothing ready: %d, %v; want 0, nil", n, err)
	}
	if n, err := rawWrite(b, []byte("ping")); n != 4 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if n, err := unix.EpollWait(ep, events, 0); n != 1 || err != nil || events[0].Fd != int32(a) {
		t.Fatalf("poll: %d, %v, fd %d; want 1, nil, fd %d", n, err, events[0].Fd, a)
	}
	if n, err := rawRead(a, buf); string(buf[:n]) != "ping" || err != nil {
		t.Fatalf("read: %q, %v", buf[:n], err)
	}
	if _, err := rawWrite(-1, buf); err != unix.EBADF {
		t.Fatalf("write to -1: %v; want EBADF", err)
	}
}
