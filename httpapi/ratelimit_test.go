package httpapi

import (
	"fmt"
	"testing"
	"time"
)

// TestLimiter: a client's burst is granted, the next request waits for a
// token, other clients are not affected, and the memory is bounded.
func TestLimiter(t *testing.T) {
	l := newLimiter(10, 3)
	now := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := l.allow("192.0.2.1:1000", now); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.allow("192.0.2.1:1001", now) // another port, the same client
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("over the burst: ok %v, wait %v", ok, wait)
	}
	if ok, _ := l.allow("192.0.2.2:1000", now); !ok {
		t.Fatal("another client was refused")
	}
	if ok, _ := l.allow("192.0.2.1:1000", now.Add(100*time.Millisecond)); !ok {
		t.Fatal("no token after a tenth of a second at 10/s")
	}
	// IPv6 clients share a bucket per /64.
	l.allow("[2001:db8::1]:1", now)
	l.allow("[2001:db8::2]:1", now)
	l.allow("[2001:db8::3]:1", now)
	if ok, _ := l.allow("[2001:db8::4]:1", now); ok {
		t.Fatal("a /64 got more than its burst")
	}
	for i := range 3 * maxTrackedClients {
		l.allow(fmt.Sprintf("198.51.100.1:%d", i), now) // one client, many ports: one bucket
		l.allow(fmt.Sprintf("10.%d.%d.%d:80", i>>16&255, i>>8&255, i&255), now)
	}
	if n := len(l.buckets); n > maxTrackedClients {
		t.Fatalf("%d buckets remembered, bound %d", n, maxTrackedClients)
	}
	if got := retryAfter(1500 * time.Millisecond); got != "2" {
		t.Fatalf("Retry-After %q", got)
	}
}
