//go:build linux

package wsconn

import (
	"syscall"
	"testing"
)

// TestDetachedCloseWaitsForUsers: Abort of a detached connection never
// closes its descriptor under a system call that uses it (the number
// could go to another connection in between); the last user closes it.
func TestDetachedCloseWaitsForUsers(t *testing.T) {
	tr := newTestTransport(100)
	c, _ := socketPair(t, tr, &recorder{})
	open := func() bool {
		_, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(c.fd), syscall.F_GETFD, 0)
		return e == 0
	}
	if !c.detached || c.NetConn() != nil {
		t.Fatal("socketPair's connection is not detached")
	}
	for range 2 { // two system calls in flight
		if !c.fdAcquire() {
			t.Fatal("fdAcquire refused on an open connection")
		}
	}
	c.Abort()
	if !open() {
		t.Fatal("Abort closed the descriptor under its users")
	}
	if c.fdAcquire() {
		t.Fatal("fdAcquire granted after Abort")
	}
	c.fdRelease()
	if !open() {
		t.Fatal("closed with a user left")
	}
	c.fdRelease()
	if open() {
		t.Fatal("the last user did not close the descriptor")
	}
}
