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
			stop := make(chan struct{})
			go park(stop)
			if err := wait(before, o); err == nil || !strings.Contains(err.Error(), "goroutine leak") {
				t.Fatalf("wait with a parked goroutine = %v, want a leak", err)
			}
			close(stop)
			o.Wait = 5 * time.Second
			if err := wait(before, o); err != nil {
				t.Fatalf("wait after the goroutine ended = %v", err)
			}
		})
	}
}

func park(stop chan struct{}) { <-stop }

func countNow() int {
	_, n := leaked(nil)
	return n
}
