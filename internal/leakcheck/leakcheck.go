package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Options configure Main.
type Options struct {
	// Wait is how long goroutines may take to end after the tests pass.
	// Default 2s.
	Wait time.Duration
	// Leaked, when not nil, reports whether a goroutine, given its stack,
	// is a leak; then any such goroutine fails the run. When nil, the run
	// fails if more goroutines remain than ran before the tests.
	Leaked func(stack string) bool
}

// Main runs the tests of m, then fails the run (exit status 1, every
// leaked stack on stderr) if goroutines leaked, and exits.
func Main(m *testing.M, o Options) {
	if o.Wait <= 0 {
		o.Wait = 2 * time.Second
	}
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if err := wait(before, o); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// wait polls until no goroutine leaks or o.Wait passes.
func wait(before int, o Options) error {
	deadline := time.Now().Add(o.Wait)
	for {
		leaks, total := leaked(o.Leaked)
		if o.Leaked == nil && total <= before || o.Leaked != nil && len(leaks) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if o.Leaked == nil {
				return fmt.Errorf("goroutine leak: %d goroutines, %d before the tests\n%s", total, before, strings.Join(leaks, "\n\n"))
			}
			return fmt.Errorf("goroutine leak:\n%s", strings.Join(leaks, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leaked returns the stacks that match (every stack when match is nil) and
// the number of goroutines.
func leaked(match func(string) bool) (leaks []string, total int) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, g := range strings.Split(string(buf), "\n\n") {
		total++
		if strings.Contains(g, "leakcheck.leaked(") {
			continue // the goroutine looking
		}
		if match == nil || match(g) {
			leaks = append(leaks, g)
		}
	}
	return leaks, total
}
