package auth

import (
	"net/netip"
	"sync"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// defaultChallengeRate is Options.ChallengeRate's default: per client
// address, 100 authreq calls a second with a burst of 1,000, enough for
// every browser behind one NAT to reconnect at once after a restart.
var defaultChallengeRate = router.RateLimit{PerSecond: 100, Burst: 1000}

// maxTrackedAddrs bounds the addresses an addrLimiter remembers. Only an
// address whose bucket is not full needs remembering (a full one is as
// good as a new one), so this many addresses would have to call authreq
// within one refill time (Burst/PerSecond, 10s by default) before the
// limiter forgets some early.
const maxTrackedAddrs = 1 << 16

// addrLimiter is a token bucket per client address: an IPv4 address, or
// the /64 of an IPv6 address (one subscriber line; a client that owns a
// /64 would otherwise have 2^64 buckets). Buckets count nanotokens, one
// token being 1e9, so that refilling is integer arithmetic. authreq is not
// a hot path: one mutex guards the map.
type addrLimiter struct {
	rate  int64 // tokens per second
	burst int64 // nanotokens

	mu      sync.Mutex
	buckets map[[16]byte]bucket // keyed by addrKey; no pointers for the GC to scan
}

type bucket struct {
	level int64 // nanotokens
	at    int64 // time of the last refill, Unix nanoseconds
}

// newAddrLimiter returns a limiter for r resolved against
// defaultChallengeRate, or nil when r turns it off (a negative PerSecond).
func newAddrLimiter(r router.RateLimit) *addrLimiter {
	if r = r.Resolve(defaultChallengeRate); r.PerSecond == 0 {
		return nil
	}
	const maxBurst = 1 << 32 // keeps burst*1e9 inside an int64
	return &addrLimiter{rate: int64(r.PerSecond), burst: min(int64(r.Burst), maxBurst) * 1e9,
		buckets: make(map[[16]byte]bucket)}
}

// addrKey is the bucket key of ip: IPv4 (or IPv4-mapped IPv6) as is,
// other IPv6 addresses masked to their /64. The zero Addr (a peer that is
// not IP) has a key of its own.
func addrKey(ip netip.Addr) [16]byte {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		ip = p.Addr()
	}
	return ip.As16()
}

// allow takes a token from ip's bucket at now. When the bucket is empty
// it takes nothing and returns how long until a token is back.
func (l *addrLimiter) allow(ip netip.Addr, now time.Time) (ok bool, retry time.Duration) {
	k, t := addrKey(ip), now.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, found := l.buckets[k]
	if !found {
		if len(l.buckets) >= maxTrackedAddrs {
			l.sweep(t)
		}
		b = bucket{level: l.burst, at: t}
	}
	l.refill(&b, t)
	if b.level < 1e9 {
		l.buckets[k] = b
		return false, time.Duration((1e9 - b.level + l.rate - 1) / l.rate)
	}
	b.level -= 1e9
	l.buckets[k] = b
	return true, 0
}

// refill adds to b the tokens earned since b.at, up to burst. A clock
// that goes back earns nothing.
func (l *addrLimiter) refill(b *bucket, t int64) {
	d := t - b.at
	if d <= 0 {
		return
	}
	b.at = t
	if d >= (l.burst-b.level)/l.rate {
		b.level = l.burst
		return
	}
	b.level += d * l.rate
}

// sweep forgets the buckets that are full again at t, then, if that is not
// a quarter of the map, arbitrary others (map order) until it is: sweeping
// costs the map's size at most once per maxTrackedAddrs/4 new addresses.
// An address forgotten early gets a full bucket back, which a client needs
// maxTrackedAddrs busy addresses to cause. The caller holds l.mu.
func (l *addrLimiter) sweep(t int64) {
	for k, b := range l.buckets {
		if t-b.at >= (l.burst-b.level)/l.rate {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) <= maxTrackedAddrs*3/4 {
			break
		}
		delete(l.buckets, k)
	}
}
