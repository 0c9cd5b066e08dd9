//go:build linux

package wsconn

import (
	"bytes"
	"syscall"
	"testing"
	"unsafe"
)

// TestRawSyscalls: the raw read, writev, epoll_ctl and epoll_wait give
// what the syscall package's would: the bytes moved, EAGAIN on an empty
// or full non-blocking socket, an errno for a bad descriptor, the ready
// descriptor and no wait.
func TestRawSyscalls(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fds[0], fds[1]
	defer syscall.Close(a)
	defer syscall.Close(b)

	buf := make([]byte, 64)
	if n, err := rawRead(a, buf); err != syscall.EAGAIN || n != 0 {
		t.Fatalf("read of an empty socket: %d, %v; want 0, EAGAIN", n, err)
	}
	if _, err := rawRead(-1, buf); err != syscall.EBADF {
		t.Fatalf("read of -1: %v; want EBADF", err)
	}

	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(a)}
	if err := rawEpollCtl(ep, syscall.EPOLL_CTL_ADD, a, &ev); err != nil {
		t.Fatal(err)
	}
	if err := rawEpollCtl(ep, syscall.EPOLL_CTL_ADD, a, &ev); err != syscall.EEXIST {
		t.Fatalf("second add: %v; want EEXIST", err)
	}
	events := make([]syscall.EpollEvent, 4)
	if n, err := rawEpollPoll(ep, events); n != 0 || err != nil {
		t.Fatalf("poll with nothing ready: %d, %v; want 0, nil", n, err)
	}

	parts := [][]byte{[]byte("hello, "), []byte("raw "), []byte("writev")}
	iov := make([]syscall.Iovec, len(parts))
	for i, p := range parts {
		iov[i] = syscall.Iovec{Base: unsafe.SliceData(p)}
		iov[i].SetLen(len(p))
	}
	if n, e := rawWritevFD(uintptr(b), iov); e != 0 || n != 17 {
		t.Fatalf("writev: %d, %v; want 17, 0", n, e)
	}
	if n, err := rawEpollPoll(ep, events); n != 1 || err != nil || events[0].Fd != int32(a) {
		t.Fatalf("poll with a readable socket: %d, %v, fd %d; want 1, nil, fd %d", n, err, events[0].Fd, a)
	}
	n, err := rawRead(a, buf)
	if err != nil || !bytes.Equal(buf[:n], []byte("hello, raw writev")) {
		t.Fatalf("read: %q, %v", buf[:n], err)
	}

	// A full socket takes part of a writev, then says EAGAIN.
	big := make([]byte, 1<<20)
	iov = []syscall.Iovec{{Base: unsafe.SliceData(big)}}
	iov[0].SetLen(len(big))
	n, e := rawWritevFD(uintptr(b), iov)
	if e != 0 || n <= 0 || n >= len(big) {
		t.Fatalf("writev of 1 MiB to a socket that is not read: %d, %v; want a part", n, e)
	}
	if _, e := rawWritevFD(uintptr(b), iov); e != syscall.EAGAIN {
		t.Fatalf("writev to a full socket: %v; want EAGAIN", e)
	}
	if err := rawEpollCtl(ep, syscall.EPOLL_CTL_DEL, a, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rawEpollPoll(-1, events); err != syscall.EBADF {
		t.Fatalf("poll of -1: %v; want EBADF", err)
	}
}
