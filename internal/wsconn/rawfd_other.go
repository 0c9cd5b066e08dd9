//go:build !linux

package wsconn

import "net"

// DetachFD does nothing on this platform: the connection stays on Go's
// runtime poller, which the portable poller (poller_other.go) waits on.
func (c *Conn) DetachFD() error { return nil }

// closeSocket closes the connection's socket.
func (c *Conn) closeSocket() { c.nc.Close() }

// readFD is one non-blocking read(2) of the socket into p.
func (c *Conn) readFD(w *Worker, p []byte) (int, error) { return c.readPolled(w, p) }

// blockingConn returns the connection's net.Conn.
func (c *Conn) blockingConn() (nc net.Conn, own bool, err error) { return c.nc, false, nil }
