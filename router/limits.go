package router

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

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

// takeSlot acquires a connection slot for s's client IP, or returns the
// 503 that refuses the upgrade.
func (s *Session) takeSlot() error {
	srv := s.srv
	if !srv.limits.on() {
		return nil
	}
	ip := s.c.ClientIP()
	ok, why := srv.limits.acquire(ip)
	if !ok {
		srv.stats.connsRefused.Add(1)
		srv.log.Info("connection refused: limit", "client", ip, "reason", why)
		secs := int((srv.opts.RetryAfter + 999_999_999) / 1e9)
		return &HTTPError{
			Status: http.StatusServiceUnavailable,
			Reason: why,
			Header: http.Header{"Retry-After": {strconv.Itoa(secs)}},
		}
	}
	s.slot.Store(true)
	return nil
}

// releaseSlot gives back s's connection slot, exactly once, whichever of
// the session's close or a failed handshake gets here first.
func (s *Session) releaseSlot() {
	if s.slot.CompareAndSwap(true, false) {
		s.srv.limits.release(s.c.ClientIP())
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
