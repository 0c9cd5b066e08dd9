package leakcheck

import (
	"strings"
	"testing"
	"time"
)

func TestWait(t *testing.T) {
	for _, tc := range []struct {
		name   string
		leaked func(string) bool
	}{
		{"by count", nil},
		{"by stack", func(g string) bool { return strings.Contains(g, "leakcheck.park") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Wait: 50 * time.Millisecond, Leaked: tc.leaked}
			before := countNow()
			// Several parked goroutines, so that goroutines of earlier
			// tests still exiting cannot hide them from the count.
			const parked = 8
			started, stop := make(chan struct{}), make(chan struct{})
			stopped := false
			defer func() {
				if !stopped {
					close(stop)
				}
			}()
			for range parked {
				go park(started, stop)
				<-started
			}
			if err := wait(before, o); err == nil || !strings.Contains(err.Error(), "goroutine leak") {
				t.Fatalf("wait with parked goroutines = %v, want a leak", err)
			}
			close(stop)
			stopped = true
			o.Wait = 5 * time.Second
			if err := wait(before, o); err != nil {
				t.Fatalf("wait after the goroutines ended = %v", err)
			}
		})
	}
}

// park runs until stop is closed, after it says it started.
func park(started, stop chan struct{}) {
	started <- struct{}{}
	<-stop
}

func countNow() int {
	_, n := leaked(nil)
	return n
}
