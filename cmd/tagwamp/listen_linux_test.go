//go:build linux

package main

import (
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestListenKeepalive: limits.tcp_keepalive reaches the accepted
// connections: Go's default (15s idle and interval), a chosen duration, or
// off (no SO_KEEPALIVE, so an idle session costs the kernel no probes).
func TestListenKeepalive(t *testing.T) {
	for _, tc := range []struct {
		name      string
		keepalive time.Duration
		on        bool
		idle      int // seconds, when on
	}{
		{"default", 0, true, 15},
		{"30s", 30 * time.Second, true, 30},
		{"off", -1, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := listen(t.Context(), "127.0.0.1:0", false, tc.keepalive)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			rc, err := a.(syscall.Conn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var on, idle int
			var serr error
			rc.Control(func(fd uintptr) {
				if on, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_KEEPALIVE); serr == nil && on != 0 {
					idle, serr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_KEEPIDLE)
				}
			})
			if serr != nil {
				t.Fatal(serr)
			}
			if (on != 0) != tc.on || tc.on && idle != tc.idle {
				t.Fatalf("SO_KEEPALIVE %d, TCP_KEEPIDLE %d; want on=%v idle %d", on, idle, tc.on, tc.idle)
			}
		})
	}
}
