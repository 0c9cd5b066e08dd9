package httpapi

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// maxTrackedClients bounds the client addresses the rate limiter
// remembers; past it, the ones whose bucket is full again are forgotten
// first, then the oldest.
const maxTrackedClients = 16384

// limiter is a token bucket per client address (an IPv6 client by its
// /64), so that one client cannot make the API cost without end; a
// request it refuses is answered 429 with Retry-After.
type limiter struct {
	rate, burst float64 // tokens per second; bucket size

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	level float64
	at    time.Time
}

func newLimiter(perSecond, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = 2 * perSecond
	}
	return &limiter{rate: float64(perSecond), burst: float64(burst), buckets: make(map[netip.Addr]*bucket)}
}

// allow takes a token for the client of remoteAddr at now; when none is
// left it reports how long until one is.
func (l *limiter) allow(remoteAddr string, now time.Time) (bool, time.Duration) {
	ip := clientKey(remoteAddr)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxTrackedClients {
			l.forget(now)
		}
		b = &bucket{level: l.burst, at: now}
		l.buckets[ip] = b
	}
	b.level = min(l.burst, b.level+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.level < 1 {
		return false, time.Duration((1 - b.level) / l.rate * float64(time.Second))
	}
	b.level--
	return true, 0
}

// forget drops the buckets that are full again, or, when none is, every
// other one: the limiter's memory stays bounded whatever the addresses.
func (l *limiter) forget(now time.Time) {
	n := len(l.buckets)
	for ip, b := range l.buckets {
		if b.level+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, ip)
		}
	}
	if len(l.buckets) < n {
		return
	}
	i := 0
	for ip := range l.buckets {
		if i%2 == 0 {
			delete(l.buckets, ip)
		}
		i++
	}
}

// clientKey is the bucket key of a request's remote address.
func clientKey(remoteAddr string) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		ip = p.Addr()
	}
	return ip
}

// retryAfter is d in whole seconds, at least 1, for Retry-After.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}
