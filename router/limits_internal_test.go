package router

import (
	"net"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := normalizePrefixes([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::ffff:192.0.2.0/120"), // mapped: 192.0.2.0/24
		netip.MustParsePrefix("2001:db8::/32"),
	})
	a := netip.MustParseAddr
	tests := []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"untrusted peer ignores the header", "203.0.113.1", []string{"198.51.100.1"}, "203.0.113.1"},
		{"trusted peer without header", "10.0.0.1", nil, "10.0.0.1"},
		{"one hop", "10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"rightmost untrusted wins over a spoofed left", "10.0.0.1", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		{"trusted hops are skipped", "10.0.0.1", []string{"198.51.100.1, 10.2.3.4, 192.0.2.9"}, "198.51.100.1"},
		{"several header lines, last is rightmost", "10.0.0.1", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"all trusted: leftmost", "10.0.0.1", []string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"},
		{"garbage stops at the last trusted hop", "10.0.0.1", []string{"198.51.100.1, bogus, 10.3.3.3"}, "10.3.3.3"},
		{"garbage right away: the peer", "10.0.0.1", []string{"bogus"}, "10.0.0.1"},
		{"ports and brackets", "10.0.0.1", []string{"[2001:db9::5]:443"}, "2001:db9::5"},
		{"v4 with port", "10.0.0.1", []string{"198.51.100.7:5555"}, "198.51.100.7"},
		{"mapped entry is unmapped", "10.0.0.1", []string{"::ffff:198.51.100.8"}, "198.51.100.8"},
		{"empty items skipped", "10.0.0.1", []string{" , 198.51.100.1 ,, "}, "198.51.100.1"},
		{"v6 proxy", "2001:db8::1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"mapped proxy prefix", "192.0.2.1", []string{"198.51.100.2"}, "198.51.100.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientIP(proxies, a(tt.peer), tt.xff); got != a(tt.want) {
				t.Fatalf("clientIP = %v, want %s", got, tt.want)
			}
		})
	}
	if got := clientIP(nil, a("10.0.0.1"), []string{"198.51.100.1"}); got != a("10.0.0.1") {
		t.Fatalf("no trusted proxies: %v", got)
	}
}

func TestPeerIP(t *testing.T) {
	for _, tt := range []struct {
		addr net.Addr
		want netip.Addr
	}{
		{&net.TCPAddr{IP: net.ParseIP("::ffff:10.1.2.3"), Port: 1}, netip.MustParseAddr("10.1.2.3")},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}, netip.MustParseAddr("2001:db8::1")},
		{&net.UnixAddr{Name: "/tmp/s", Net: "unix"}, netip.Addr{}},
		{nil, netip.Addr{}},
	} {
		if got := peerIP(tt.addr); got != tt.want {
			t.Errorf("peerIP(%v) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
