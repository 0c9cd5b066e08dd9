package config

import (
	"net"
	"strconv"
)

// validateProcs checks procs, reuse_port and procs_without_broker.
func (c *Config) validateProcs(bad func(key, format string, args ...any)) {
	switch {
	case c.Procs < 1 || c.Procs > MaxProcs:
		bad("procs", "must be 1 to %d", MaxProcs)
	case c.Procs > 1 && !c.Broker.Enabled() && !c.ProcsWithoutBroker:
		bad("procs", "%d processes without broker.nats: a publication would reach only the sessions of the process it was made on; configure broker.nats, or set procs_without_broker: true", c.Procs)
	}
	if c.Procs > 1 && c.DebugAddr != "" {
		// Process i listens on the port plus i (DebugAddrOf).
		if _, port, err := net.SplitHostPort(c.DebugAddr); err == nil {
			if p, err := strconv.Atoi(port); err == nil && p != 0 && p+c.Procs-1 > 65535 {
				bad("debug_addr", "port %d plus %d processes is past 65535", p, c.Procs)
			}
		}
	}
}

// DebugAddrOf returns the debug address of process i of procs: the port
// of debug_addr plus i (port 0 stays 0: any free port), so that every
// process has its own metrics.
func (c *Config) DebugAddrOf(i int) string {
	host, port, err := net.SplitHostPort(c.DebugAddr)
	if err != nil {
		return c.DebugAddr
	}
	p, err := strconv.Atoi(port)
	if err != nil || p == 0 {
		return c.DebugAddr
	}
	return net.JoinHostPort(host, strconv.Itoa(p+i))
}
