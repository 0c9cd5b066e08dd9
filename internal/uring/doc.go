// Package uring is a small wrapper over Linux's io_uring, made for one
// job: hand the kernel many socket writes with one system call. It maps
// the submission and completion rings of io_uring_setup(2) and offers what
// tagwamp's transport uses: queue send operations (PrepSendmsg,
// PrepWritev), submit them (Submit, SubmitAndWait) and reap their
// completions (Reap), each matched to its operation by the user data given
// when it was queued.
//
//	r, err := uring.New(uring.Params{Entries: 256})
//	if err != nil { ... } // io_uring unavailable: use writev instead
//	defer r.Close()
//	for i, c := range conns {
//		r.PrepSendmsg(c.fd, &c.msg, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, uint64(i))
//	}
//	n, err := r.SubmitAndWait(uint32(len(conns)))
//	r.Reap(func(user uint64, res int32) { ... }) // res: bytes, or -errno
//
// New fails where io_uring is unavailable: an older kernel (ENOSYS), the
// kernel.io_uring_disabled sysctl, or a seccomp filter (EPERM); the caller
// keeps a fallback. Outside Linux New always fails (ErrUnsupported).
//
// # Concurrency and borrowed memory
//
// A Ring belongs to one goroutine at a time and is not safe for concurrent
// use; it may move between goroutines and threads (no
// IORING_SETUP_SINGLE_ISSUER). The memory an operation points to (a
// msghdr, its iovecs, the bytes they name) and the descriptor it names
// must stay valid and unchanged until its completion is reaped: the caller
// holds them (a descriptor closed and reused by another socket before the
// submission would receive the bytes). The rings are shared with the
// kernel through sync/atomic loads and stores of their heads and tails,
// which order the plain writes of an entry before the tail that publishes
// it.
package uring
