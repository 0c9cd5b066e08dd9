package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// errLinuxOnly is the error of reuse_port and procs off Linux, where
// SO_REUSEPORT does not spread connections among the processes.
var errLinuxOnly = errors.New("SO_REUSEPORT sharing is supported on Linux only")

// listen listens on addr, with SO_REUSEPORT when reusePort (Linux only,
// reusePortControl): then other processes that set it too may listen on
// the same address, and the kernel spreads new connections among them.
// keepalive is the TCP keepalive of accepted connections (net.ListenConfig's
// KeepAlive: 0 is Go's default of 15s, negative turns it off).
func listen(ctx context.Context, addr string, reusePort bool, keepalive time.Duration) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: keepalive}
	if reusePort {
		lc.Control = reusePortControl
	}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil && reusePort {
		return nil, fmt.Errorf("reuse_port: %w", err)
	}
	return ln, err
}
