package handlers

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/tagwamp/tagwamp/router"
)

// IPFilter accepts or refuses connections by IP address. It is a
// router.HandshakeFilter with the router.ConnFilter capability; install it
// in router.Options.Filters and it checks both addresses a connection has:
//
//   - AcceptConn filters on the socket's peer address before any byte of
//     the handshake is read: the cheapest, and what decides when clients
//     connect directly. The router skips it for a peer that is one of
//     router.Options.TrustedProxies: behind a reverse proxy every peer is
//     the proxy.
//   - Handshake filters on the request's client IP
//     (router.Request.ClientIP), which is the X-Forwarded-For address when
//     the peer is a trusted proxy, and the peer's otherwise. It refuses
//     with 403 after reading the upgrade request.
//
// An address is refused when it is in a deny prefix (deny wins), or when
// the allow list is not empty and the address is in none of its prefixes.
// An empty allow list allows every address that is not denied. IPv4-mapped
// IPv6 addresses (::ffff:10.0.0.1) and prefixes are treated as the IPv4 ones
// they map, and zones are ignored. A connection whose remote address is not
// an IP address (a Unix socket, a pipe in tests) is refused when the allow
// list is not empty and accepted otherwise.
//
// An IPFilter is immutable and safe for concurrent use; accepting a TCP
// connection allocates nothing. Lists are scanned linearly, which
// suits the short lists of a configuration file.
type IPFilter struct {
	allow, deny []netip.Prefix
}

// NewIPFilter returns a filter with the given allow and deny lists. Each
// entry is a CIDR prefix ("10.0.0.0/8", "2001:db8::/32") or a bare address
// ("192.0.2.7", a /32; "2001:db8::1", a /128). Host bits beyond the prefix
// length are ignored. An entry that is neither fails with an error naming
// the list and the entry.
func NewIPFilter(allow, deny []string) (*IPFilter, error) {
	a, err := parsePrefixes("allow", allow)
	if err != nil {
		return nil, err
	}
	d, err := parsePrefixes("deny", deny)
	if err != nil {
		return nil, err
	}
	return &IPFilter{allow: a, deny: d}, nil
}

func parsePrefixes(list string, entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for i, e := range entries {
		p, err := parsePrefix(strings.TrimSpace(e))
		if err != nil {
			return nil, fmt.Errorf("handlers: ip filter: %s[%d] %q: %w", list, i, e, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// parsePrefix parses a CIDR prefix or a bare address and normalizes it:
// masked, without zone, IPv4-mapped IPv6 turned into IPv4.
func parsePrefix(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("empty entry")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR prefix")
		}
		a = normalizeAddr(a)
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR prefix")
	}
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() {
		if bits < 96 {
			// Wider than ::ffff:0:0/96: not only IPv4-mapped addresses.
			return p.Masked(), nil
		}
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

func normalizeAddr(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// Allowed reports whether the filter accepts addr.
func (f *IPFilter) Allowed(addr netip.Addr) bool {
	addr = normalizeAddr(addr)
	for _, p := range f.deny {
		if p.Contains(addr) {
			return false
		}
	}
	if len(f.allow) == 0 {
		return true
	}
	for _, p := range f.allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// AcceptConn implements router.ConnFilter: it returns an error
// wrapping ErrIPDenied when the filter refuses c's remote address.
func (f *IPFilter) AcceptConn(c net.Conn) error {
	addr, ok := remoteIP(c.RemoteAddr())
	if !ok {
		if len(f.allow) == 0 {
			return nil
		}
		return fmt.Errorf("%w: %v is not an IP address", ErrIPDenied, c.RemoteAddr())
	}
	if f.Allowed(addr) {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrIPDenied, addr)
}

// Handshake implements router.HandshakeFilter: it refuses an upgrade
// whose client IP the filter refuses with &router.HTTPError{Status: 403,
// Reason: "address not allowed"}. A request without a client IP (a peer
// that is not an IP address) is refused when the allow list is not empty.
func (f *IPFilter) Handshake(r *router.Request) error {
	if !r.ClientIP.IsValid() {
		if len(f.allow) == 0 {
			return nil
		}
	} else if f.Allowed(r.ClientIP) {
		return nil
	}
	return &router.HTTPError{Status: http.StatusForbidden, Reason: "address not allowed"}
}

// remoteIP extracts the IP address of a connection's remote address.
func remoteIP(a net.Addr) (netip.Addr, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(a.IP)
		return ip, ok
	case *net.UDPAddr:
		ip, ok := netip.AddrFromSlice(a.IP)
		return ip, ok
	case nil:
		return netip.Addr{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		ip, err := netip.ParseAddr(a.String())
		return ip, err == nil
	}
	return ap.Addr(), true
}
