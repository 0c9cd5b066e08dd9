package handlers

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/tagwamp/tagwamp/router"
)

func TestNewIPFilterErrors(t *testing.T) {
	tests := []struct {
		allow, deny []string
		want        string // substring of the error; "" for none
	}{
		{[]string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::1", " 10.1.0.0/16 "}, []string{"10.9.9.9"}, ""},
		{nil, nil, ""},
		{[]string{"10.0.0.300"}, nil, `allow[0] "10.0.0.300"`},
		{[]string{"10.0.0.0/8", "10.0.0.0/33"}, nil, `allow[1] "10.0.0.0/33"`},
		{nil, []string{"example.com"}, `deny[0] "example.com"`},
		{nil, []string{""}, `deny[0] "": empty entry`},
		{nil, []string{"fe80::1%eth0/64"}, `deny[0]`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append(tt.allow, tt.deny...), ","), func(t *testing.T) {
			_, err := NewIPFilter(tt.allow, tt.deny)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestIPFilterAllowed(t *testing.T) {
	type check struct {
		addr string
		want bool
	}
	tests := []struct {
		name        string
		allow, deny []string
		checks      []check
	}{
		{"empty allows all", nil, nil, []check{
			{"10.0.0.1", true}, {"::1", true}, {"203.0.113.9", true},
		}},
		{"allow list", []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"}, nil, []check{
			{"10.0.0.1", true}, {"10.255.255.255", true}, {"11.0.0.0", false},
			{"192.0.2.7", true}, {"192.0.2.8", false},
			{"2001:db8::1", true}, {"2001:db9::1", false},
			{"::ffff:10.1.2.3", true}, // IPv4-mapped address
			{"::ffff:11.1.2.3", false},
			{"fe80::1%eth0", false},
		}},
		{"deny list only", nil, []string{"203.0.113.0/24", "2001:db8::dead"}, []check{
			{"203.0.113.5", false}, {"::ffff:203.0.113.5", false}, {"203.0.114.5", true},
			{"2001:db8::dead", false}, {"2001:db8::beef", true},
		}},
		{"deny wins", []string{"10.0.0.0/8"}, []string{"10.1.0.0/16"}, []check{
			{"10.0.0.1", true}, {"10.1.2.3", false}, {"10.2.0.0", true},
		}},
		{"mapped prefix", []string{"::ffff:10.0.0.0/104"}, nil, []check{
			{"10.1.2.3", true}, {"::ffff:10.1.2.3", true}, {"11.1.2.3", false},
		}},
		{"bare IPv6 is /128", []string{"2001:db8::1"}, nil, []check{
			{"2001:db8::1", true}, {"2001:db8::2", false},
		}},
		{"host bits ignored", []string{"10.1.2.3/8"}, nil, []check{
			{"10.200.0.1", true},
		}},
		{"zone ignored", []string{"fe80::/10"}, nil, []check{
			{"fe80::1%eth0", true},
		}},
		{"v4 any does not cover v6", []string{"0.0.0.0/0"}, nil, []check{
			{"1.2.3.4", true}, {"::1", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewIPFilter(tt.allow, tt.deny)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				if got := f.Allowed(netip.MustParseAddr(c.addr)); got != c.want {
					t.Errorf("Allowed(%s) = %v, want %v", c.addr, got, c.want)
				}
			}
		})
	}
}

// addrConn is a net.Conn with a chosen remote address.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

func TestIPFilterAcceptConn(t *testing.T) {
	allowTen, _ := NewIPFilter([]string{"10.0.0.0/8"}, nil)
	denyTen, _ := NewIPFilter(nil, []string{"10.0.0.0/8"})
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 4000} }
	tests := []struct {
		name   string
		f      *IPFilter
		remote net.Addr
		ok     bool
	}{
		{"tcp allowed", allowTen, tcp("10.1.1.1"), true},
		{"tcp 16-byte v4 allowed", allowTen, &net.TCPAddr{IP: net.ParseIP("10.1.1.1").To16()}, true},
		{"tcp refused", allowTen, tcp("192.0.2.1"), false},
		{"tcp denied", denyTen, tcp("10.1.1.1"), false},
		{"udp", allowTen, &net.UDPAddr{IP: net.ParseIP("10.1.1.1")}, true},
		{"string addr", allowTen, fakeAddr("10.2.2.2:80"), true},
		{"string v6 addr", allowTen, fakeAddr("[2001:db8::1]:80"), false},
		{"string bare ip", denyTen, fakeAddr("10.2.2.2"), false},
		{"unix with allow list", allowTen, &net.UnixAddr{Name: "/tmp/s", Net: "unix"}, false},
		{"unix with deny list", denyTen, &net.UnixAddr{Name: "/tmp/s", Net: "unix"}, true},
		{"nil addr with allow list", allowTen, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.AcceptConn(addrConn{remote: tt.remote})
			if tt.ok != (err == nil) {
				t.Fatalf("AcceptConn = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrIPDenied) {
				t.Fatalf("err = %v, want ErrIPDenied", err)
			}
		})
	}
}

// fakeAddr is a net.Addr of another network type, known only by its string.
type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }

func TestIPFilterAllowedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	f, _ := NewIPFilter([]string{"10.0.0.0/8"}, []string{"10.1.0.0/16"})
	var c net.Conn = addrConn{remote: &net.TCPAddr{IP: net.ParseIP("10.2.3.4")}}
	if n := testing.AllocsPerRun(100, func() {
		if f.AcceptConn(c) != nil {
			t.Fatal("refused")
		}
	}); n != 0 {
		t.Fatalf("AcceptConn allocates %v times when it accepts, want 0", n)
	}
}

func TestIPFilterHandshake(t *testing.T) {
	allowTen, _ := NewIPFilter([]string{"10.0.0.0/8"}, nil)
	denyTen, _ := NewIPFilter(nil, []string{"10.0.0.0/8"})
	tests := []struct {
		name   string
		f      *IPFilter
		client netip.Addr
		ok     bool
	}{
		{"allowed", allowTen, netip.MustParseAddr("10.1.1.1"), true},
		{"not in allow list", allowTen, netip.MustParseAddr("192.0.2.1"), false},
		{"denied", denyTen, netip.MustParseAddr("10.1.1.1"), false},
		{"mapped and denied", denyTen, netip.MustParseAddr("::ffff:10.1.1.1"), false},
		{"not denied", denyTen, netip.MustParseAddr("2001:db8::1"), true},
		{"no client IP, allow list", allowTen, netip.Addr{}, false},
		{"no client IP, deny list", denyTen, netip.Addr{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The client IP decides, not the peer (a trusted proxy here).
			err := tt.f.Handshake(&router.Request{
				ClientIP:   tt.client,
				RemoteAddr: &net.TCPAddr{IP: net.ParseIP("10.9.9.9"), Port: 1},
			})
			if tt.ok != (err == nil) {
				t.Fatalf("Handshake = %v, want ok=%v", err, tt.ok)
			}
			var he *router.HTTPError
			if err != nil && (!errors.As(err, &he) || he.Status != 403 || he.Reason != "address not allowed") {
				t.Fatalf("Handshake = %#v, want a 403 HTTPError", err)
			}
		})
	}
}
