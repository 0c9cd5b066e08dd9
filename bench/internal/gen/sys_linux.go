package gen

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// selfCPU is this process's user+system CPU time in seconds.
func selfCPU() float64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// RaiseFileLimit raises RLIMIT_NOFILE to its hard limit and returns it.
func RaiseFileLimit() (uint64, error) {
	var l unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

// rawRead and rawWrite are read(2) and write(2) on a non-blocking
// descriptor, made without telling the runtime (unix.RawSyscall): they
// never block, and a system call the runtime is told of has its monitor
// thread check every 20 us and hand the loop's P to another thread,
// waking one, whenever goroutines wait (bench/RESULTS.md, "System calls
// the runtime is not told of"). The generator's CPU is what the servers
// measured beside it do not get.
func rawRead(fd int, p []byte) (int, error) { return rawRW(unix.SYS_READ, fd, p) }

func rawWrite(fd int, p []byte) (int, error) { return rawRW(unix.SYS_WRITE, fd, p) }

func rawRW(trap uintptr, fd int, p []byte) (int, error) {
	var base unsafe.Pointer
	if len(p) > 0 {
		base = unsafe.Pointer(unsafe.SliceData(p))
	}
	r, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(base), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
