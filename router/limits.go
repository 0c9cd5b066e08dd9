package router

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/tagwamp/tagwamp/protocol"
)

// bucketRate is the configuration of a token bucket counted in nanotokens
// (one token is 1e9), so that refilling is integer arithmetic: rate tokens
// per second add rate nanotokens per elapsed nanosecond. A bucket's state is
// just its level (an int64, in the session's limiter); its rate and burst
// are the server's.
type bucketRate struct {
	rate  int64 // tokens per second
	burst int64 // in nanotokens
}

// maxBurst keeps burst*1e9 inside an int64.
const maxBurst = 1 << 32

func newBucketRate(r RateLimit) bucketRate {
	return bucketRate{rate: int64(r.PerSecond), burst: min(int64(r.Burst), maxBurst) * 1e9}
}

// refill adds to level the tokens earned in d nanoseconds, up to burst.
func (b bucketRate) refill(level *int64, d int64) {
	if d >= (b.burst-*level)/b.rate {
		*level = b.burst
		return
	}
	*level += d * b.rate
}

// take spends n tokens of level and reports whether it still holds a
// non-negative amount.
func take(level *int64, n int64) bool {
	*level -= n * 1e9
	return *level >= 0
}

// rates is the server's rate-limit configuration (Options.MessageRate and
// ByteRate).
type rates struct {
	msgs, bytes     bucketRate
	msgsOn, bytesOn bool
}

func newRates(o *Options) rates {
	r := rates{msgsOn: o.MessageRate.PerSecond > 0, bytesOn: o.ByteRate.PerSecond > 0}
	if r.msgsOn {
		r.msgs = newBucketRate(o.MessageRate)
	}
	if r.bytesOn {
		r.bytes = newBucketRate(o.ByteRate)
	}
	return r
}

// on reports whether a rate limit is on.
func (r *rates) on() bool { return r.msgsOn || r.bytesOn }

// limiter is a session's rate-limit state, held inline in its conn (24
// bytes, rather than a pointer to buckets that repeat the server's rates):
// the levels of its two buckets and the time of their last refill. It is
// refilled once per read notification, with the clock read the worker
// takes anyway, so charging a message costs a subtraction. It belongs to
// the worker serving its session (EPOLLONESHOT), so it takes no lock.
type limiter struct {
	last        int64 // unix nanoseconds of the last refill
	msgs, bytes int64 // bucket levels, in nanotokens
}

// start fills both buckets at now.
func (l *limiter) start(r *rates, now int64) {
	*l = limiter{last: now, msgs: r.msgs.burst, bytes: r.bytes.burst}
}

// refill refills both buckets at now; a clock that goes back changes
// nothing.
func (l *limiter) refill(r *rates, now int64) {
	d := now - l.last
	if d <= 0 {
		return
	}
	l.last = now
	if r.msgsOn {
		r.msgs.refill(&l.msgs, d)
	}
	if r.bytesOn {
		r.bytes.refill(&l.bytes, d)
	}
}

// rateLimited closes a session that emptied one of its buckets; what names
// the limit ("messages", "bytes").
func (c *conn) rateLimited(what string, r RateLimit) {
	c.srv.stats.rateLimited.Add(1)
	c.srv.log.Warn("closing session: rate limit exceeded", "session", c.sess.id,
		"client", c.clientIP, "limit", what, "per_second", r.PerSecond, "burst", r.Burst)
	c.closeWith(protocol.ClosePolicyViolation, fmt.Sprintf("rate limit exceeded: more than %d %s per second", r.PerSecond, what))
}

// connLimiter counts open connections in total and per client IP, for
// MaxConns and MaxConnsPerIP. A connection holds a slot from its accepted
// upgrade request until its session is closed (conn.releaseSlot).
type connLimiter struct {
	maxTotal, maxPerIP int

	mu    sync.Mutex // a leaf lock
	total int
	perIP map[netip.Addr]int
}

// on reports whether any connection limit is configured.
func (l *connLimiter) on() bool { return l.maxTotal > 0 || l.maxPerIP > 0 }

// acquire takes a slot for ip, or returns why it cannot.
func (l *connLimiter) acquire(ip netip.Addr) (bool, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxTotal > 0 && l.total >= l.maxTotal {
		return false, "server is at its connection limit; retry later"
	}
	if l.maxPerIP > 0 {
		if l.perIP[ip] >= l.maxPerIP {
			return false, "too many connections from your address; retry later"
		}
		if l.perIP == nil {
			l.perIP = make(map[netip.Addr]int)
		}
		l.perIP[ip]++
	}
	l.total++
	return true, ""
}

// release gives back a slot acquire granted for ip.
func (l *connLimiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.maxPerIP > 0 {
		if n := l.perIP[ip] - 1; n > 0 {
			l.perIP[ip] = n
		} else {
			delete(l.perIP, ip)
		}
	}
}

// takeSlot acquires a connection slot for c's client IP, or returns the
// 503 that refuses the upgrade.
func (c *conn) takeSlot() error {
	l := &c.srv.limits
	if !l.on() {
		return nil
	}
	ok, why := l.acquire(c.clientIP)
	if !ok {
		c.srv.stats.connsRefused.Add(1)
		c.srv.log.Info("connection refused: limit", "client", c.clientIP, "reason", why)
		secs := int((c.srv.opts.RetryAfter + 999_999_999) / 1e9)
		return &HTTPError{
			Status: http.StatusServiceUnavailable,
			Reason: why,
			Header: http.Header{"Retry-After": {strconv.Itoa(secs)}},
		}
	}
	c.slot.Store(true)
	return nil
}

// releaseSlot gives back c's connection slot, exactly once, whichever of
// the session's close or a failed handshake gets here first.
func (c *conn) releaseSlot() {
	if c.slot.CompareAndSwap(true, false) {
		c.srv.limits.release(c.clientIP)
	}
}

// peerIP returns the IP of a connection's peer address, unmapped, or the
// zero Addr when it is not an IP address (a pipe in tests).
func peerIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(ta.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// normalizePrefixes masks the prefixes and turns IPv4-mapped ones into
// IPv4, so that they compare with the unmapped addresses peerIP returns.
func normalizePrefixes(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ps))
	for _, p := range ps {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}

// trusted reports whether ip is in one of the trusted proxy networks.
func trusted(proxies []netip.Prefix, ip netip.Addr) bool {
	for _, p := range proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP returns the client IP of a request from peer: when peer is a
// trusted proxy, the rightmost X-Forwarded-For address that is not one
// (each proxy appends the address it received from, so only the hops to
// the right of that one are vouched for); when every listed address is
// trusted, the leftmost; when a value does not parse before an untrusted
// address is found, the last trusted hop, since what it forwarded cannot be
// believed. Otherwise, and for untrusted peers, peer itself.
func clientIP(proxies []netip.Prefix, peer netip.Addr, xff []string) netip.Addr {
	if len(proxies) == 0 || len(xff) == 0 || !trusted(proxies, peer) {
		return peer
	}
	client := peer
	for i := len(xff) - 1; i >= 0; i-- {
		v := xff[i]
		for v != "" {
			var item string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				v, item = v[:j], v[j+1:]
			} else {
				v, item = "", v
			}
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			ip, ok := parseForwarded(item)
			if !ok {
				return client
			}
			client = ip
			if !trusted(proxies, ip) {
				return ip
			}
		}
	}
	return client
}

// parseForwarded parses one X-Forwarded-For entry: an IP address, possibly
// with a port ("192.0.2.1:1234", "[2001:db8::1]:1234").
func parseForwarded(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}
