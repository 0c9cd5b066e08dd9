//go:build linux

package wsconn

import (
	"syscall"
	"unsafe"
)

// The transport's read, writev, epoll_ctl and epoll_wait never block:
// every socket is non-blocking and epoll_wait is called with a timeout
// of 0 (the runtime's poller waits instead). They are made with
// syscall.RawSyscall, without telling the runtime: a system call it is
// told of puts the goroutine's P in the syscall state, and the runtime's
// monitor thread (sysmon), which checks every 20 us while Ps keep entering
// system calls, hands such a P to another thread, waking one, whenever
// goroutines wait to run. Under load that was a thread wake-up per few
// calls and a monitor that never slowed down (bench/RESULTS.md, "System
// calls the runtime is not told of").

// rawRead is read(2) on a non-blocking descriptor.
func rawRead(fd int, p []byte) (int, error) {
	var base unsafe.Pointer
	if len(p) > 0 {
		base = unsafe.Pointer(unsafe.SliceData(p))
	}
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(base), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// rawWritevFD is writev(2) on a non-blocking descriptor.
func rawWritevFD(fd uintptr, iov []syscall.Iovec) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd,
		uintptr(unsafe.Pointer(unsafe.SliceData(iov))), uintptr(len(iov)))
	return int(r), e
}

// rawEpollCtl is epoll_ctl(2).
func rawEpollCtl(epfd, op, fd int, ev *syscall.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd),
		uintptr(unsafe.Pointer(ev)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// rawEpollPoll is epoll_wait(2) with a timeout of 0: it never waits.
func rawEpollPoll(epfd int, events []syscall.EpollEvent) (int, error) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(unsafe.SliceData(events))), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
