//go:build !linux

package wsconn

import "syscall"

// rawRead is read(2) on a non-blocking descriptor; elsewhere than Linux
// the runtime is told of it as of any system call.
func rawRead(fd int, p []byte) (int, error) { return syscall.Read(fd, p) }
