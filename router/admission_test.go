package router_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// sourceIP returns the i-th of many loopback source addresses,
// 127.0.1.2 onwards, so that a test looks like many clients.
func sourceIP(i int) net.IP { return net.IPv4(127, 0, byte(1+i/250), byte(2+i%250)) }

// dialFrom opens a TCP connection to addr from the loopback address src
// (nil: the system's choice).
func dialFrom(src net.IP, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if src != nil {
		d.LocalAddr = &net.TCPAddr{IP: src}
	}
	return d.Dial("tcp", addr)
}

// openSilent opens n connections to addr that never send a byte, from
// many source addresses, and closes them with the test.
func openSilent(t testing.TB, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range n {
		c, err := dialFrom(sourceIP(i), addr)
		if err != nil {
			t.Fatalf("silent connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	return conns
}

// upgrade runs an honest WAMP upgrade from src to addr and returns the
// answer's status code and how long it took, from the TCP connect to the
// status line.
func upgrade(src net.IP, addr string) (int, time.Duration, error) {
	start := time.Now()
	c, err := dialFrom(src, addr)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	if _, err := io.WriteString(c, upgradeHead("/", "")); err != nil {
		return 0, 0, err
	}
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, 0, err
	}
	return resp.StatusCode, time.Since(start), nil
}

func addrOf(url string) string { return strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/") }

// TestHandshakeSilentSockets holds 1,000 silent connections from many
// addresses against a server with only 4 handshake places: honest clients
// still complete their handshakes, no goroutine is spent per silent
// socket, and the silent ones are closed and counted after
// HandshakeFirstByteTimeout. (Before the waiting room, 4 silent sockets
// kept every new client waiting for HandshakeTimeout.)
func TestHandshakeSilentSockets(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	srv, url := startServer(t, router.Options{MaxHandshakes: 4, HandshakeFirstByteTimeout: 2 * time.Second})
	addr := addrOf(url)
	before := runtime.NumGoroutine()
	silent := openSilent(t, addr, n)
	waitFor(t, func() bool { return srv.Stats().Accepted >= uint64(n) }, "the silent connections accepted")
	if g := runtime.NumGoroutine() - before; g > 50 {
		t.Errorf("%d silent connections hold %d more goroutines, want none each", n, g)
	} else {
		t.Logf("%d silent connections: %d more goroutines in the process", n, g)
	}
	for i := range 20 {
		status, _, err := upgrade(sourceIP(n+i), addr)
		if err != nil || status != http.StatusSwitchingProtocols {
			t.Fatalf("honest client %d beside %d silent ones: %d, %v", i, n, status, err)
		}
		if srv.Stats().SilentConns > 0 { // not a timing assertion: the rest would prove nothing
			t.Logf("a machine this slow closed the silent connections after %d honest upgrades", i+1)
			break
		}
	}
	waitFor(t, func() bool { return srv.Stats().SilentConns == uint64(n) }, fmt.Sprintf("%d silent connections closed", n))
	for _, c := range silent[:10] {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Fatalf("silent connection not closed: %v", err)
		}
	}
	if st := srv.Stats(); st.Rejected < uint64(n) {
		t.Fatalf("Rejected = %d, want at least %d", st.Rejected, n)
	}
}

// TestHandshakesPerIP checks MaxHandshakesPerIP: one address's pending
// connections past it are closed at accept and counted, other addresses
// are served, and a place comes back when one of them ends.
func TestHandshakesPerIP(t *testing.T) {
	srv, url := startServer(t, router.Options{MaxHandshakesPerIP: 3, HandshakeFirstByteTimeout: 5 * time.Second})
	addr := addrOf(url)
	one := net.IPv4(127, 0, 0, 1)
	var silent []net.Conn
	for range 3 {
		c, err := dialFrom(one, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	waitFor(t, func() bool { return srv.Stats().Accepted == 3 }, "3 accepted")
	c, err := dialFrom(one, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("a 4th connection from 127.0.0.1 read %v, want it closed", err)
	}
	if st := srv.Stats(); st.HandshakesPerIPRefused != 1 || st.Rejected != 1 {
		t.Fatalf("HandshakesPerIPRefused = %d, Rejected = %d; want 1, 1", st.HandshakesPerIPRefused, st.Rejected)
	}
	if status, _, err := upgrade(net.IPv4(127, 0, 0, 2), addr); status != http.StatusSwitchingProtocols {
		t.Fatalf("127.0.0.2 beside the full 127.0.0.1: %d, %v", status, err)
	}
	silent[0].Close() // its handshake fails at once: a place for 127.0.0.1
	waitFor(t, func() bool { return srv.Stats().Rejected == 2 }, "the closed connection's handshake ended")
	if status, _, err := upgrade(one, addr); status != http.StatusSwitchingProtocols {
		t.Fatalf("127.0.0.1 after one of its connections ended: %d, %v", status, err)
	}
}

// TestSlowlorisLatency measures an honest client's connect (TCP connect to
// the 101 status line) alone and beside N silent connections from many
// addresses, N from TAGWAMP_SLOWLORIS (say 5000; it needs about 2N+100
// descriptors, see ulimit -n). It asserts only that every honest handshake
// completes; bench/RESULTS.md ("Slowloris") records the figures:
//
//	TAGWAMP_SLOWLORIS=5000 go test ./router/ -run TestSlowlorisLatency -v
func TestSlowlorisLatency(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TAGWAMP_SLOWLORIS"))
	if n <= 0 {
		t.Skip("set TAGWAMP_SLOWLORIS=N to run with N silent connections")
	}
	const honest = 300
	srv, url := startServer(t, router.Options{})
	addr := addrOf(url)
	measure := func(label string) {
		d := make([]time.Duration, 0, honest)
		for i := range honest {
			status, took, err := upgrade(net.IPv4(127, 0, 0, 1), addr)
			if err != nil || status != http.StatusSwitchingProtocols {
				t.Fatalf("%s: honest client %d: %d, %v", label, i, status, err)
			}
			d = append(d, took)
		}
		first := d[0]
		slices.Sort(d)
		t.Logf("%s: %d honest upgrades one after another, connect-to-101 first %v, p50 %v, p99 %v, max %v",
			label, honest, first, d[honest/2], d[honest*99/100], d[honest-1])
	}
	measure("no attack")
	start := time.Now()
	openSilent(t, addr, n)
	t.Logf("%d silent connections, each from its own address, connected in %v", n, time.Since(start))
	measure(fmt.Sprintf("%d silent", n))
	t.Logf("the server accepted %d connections in all", srv.Stats().Accepted)
	if srv.Stats().SilentConns != 0 {
		t.Logf("note: %d silent connections timed out during the measurement", srv.Stats().SilentConns)
	}
}
