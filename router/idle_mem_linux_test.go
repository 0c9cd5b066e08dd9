//go:build linux

package router

import (
	"context"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/wsconn"
)

// idleBoundBytes is what TestIdleSessionMemory allows an idle session
// with one tag subscription, in Go heap and stacks, at its 4,000
// sessions: 1,010-1,063 B measured (bench/RESULTS.md, "Idle sessions"),
// plus a margin for the allocator's run-to-run spread. With fewer
// sessions than the 19,500 of the target's measurement, the fixed costs
// (tables grown by doubling, the last GC cycle's holes) weigh more.
const idleBoundBytes = 1200

// TestIdleSessionMemory holds the per-session memory of idle sessions:
// it opens idleTestSessions real loopback sessions, each subscribed to
// its own tag topic, from clients that hold only raw descriptors (so that
// the client side adds nothing to the Go heap), waits for the workers to
// exit, and checks the growth of HeapInuse + StackInuse per session
// against idleBoundBytes. A size, not a timing: the allocator's figure
// for the same code is the same on any machine (under -race too, where it
// measured 918 B).
func TestIdleSessionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of sessions")
	}
	const n = 4000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 2*n+200 {
		t.Skipf("descriptor limit %d is below the %d this test needs", lim.Cur, 2*n+200)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{})
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	waitSubs := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for srv.Stats().Subscriptions != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d subscriptions, want %d", srv.Stats().Subscriptions, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitIdle := func() {
		deadline := time.Now().Add(3 * wsconn.WorkerIdle)
		for srv.t.Workers() > 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	closeAll := func(fds []int) {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}
	// One session first, so that the baseline holds the pools' and the
	// runtime's fixed costs.
	warm, err := idleDial(ln.Addr().String(), 1)
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(1)
	closeAll(warm)
	waitSubs(0)
	waitIdle()

	before := sampleMem()
	fds, err := idleDial(ln.Addr().String(), n)
	t.Cleanup(func() { closeAll(fds) })
	if err != nil {
		t.Fatal(err)
	}
	waitSubs(n)
	waitIdle()
	after := sampleMem()
	per := (float64(after.heapStack) - float64(before.heapStack)) / n
	t.Logf("%d idle sessions: %.0f B of Go heap and stacks each (RSS %.0f B)", n, per,
		(float64(after.rss)-float64(before.rss))/n)
	if per > idleBoundBytes {
		t.Errorf("an idle session holds %.0f B of Go heap and stacks, want at most %d", per, idleBoundBytes)
	}
	runtime.KeepAlive(fds)
}
