//go:build linux

package wsconn

import (
	"github.com/mailru/easygo/netpoll"
)

// epollClosed is the event easygo passes to every callback when the epoll
// instance is closed (its unexported _EPOLLCLOSED).
const epollClosed = 0x20

// readEvents arms a descriptor for one read notification: EPOLLONESHOT makes
// sure at most one worker handles a connection at a time; the worker re-arms
// it when it is done, so one publisher's events stay in order
// (docs/protocol.md#ordering).
const readEvents = netpoll.EPOLLIN | netpoll.EPOLLRDHUP | netpoll.EPOLLONESHOT

// poller watches connections for readability with one epoll instance. It
// registers each connection's own descriptor, obtained through
// syscall.RawConn, rather than the duplicate easygo's Handle makes through
// File(): one descriptor per connection.
type poller struct {
	ep *netpoll.Epoll
}

func newPoller(onErr func(error)) (*poller, error) {
	ep, err := netpoll.EpollCreate(&netpoll.EpollConfig{OnWaitError: onErr})
	if err != nil {
		return nil, err
	}
	return &poller{ep: ep}, nil
}

// add starts watching c; c.onReadable is scheduled on each notification.
func (p *poller) add(c *Conn) error {
	return p.ep.Add(int(c.fd), readEvents, func(ev netpoll.EpollEvent) {
		if ev == epollClosed {
			return
		}
		c.t.pool.schedule(c)
	})
}

// rearm asks for the next read notification of c. The caller holds c.mu
// and has checked that c is not closed, so the descriptor is still c's.
func (p *poller) rearm(c *Conn) error { return p.ep.Mod(int(c.fd), readEvents) }

// remove stops watching c. The caller holds c.mu, before closing the socket.
func (p *poller) remove(c *Conn) error { return p.ep.Del(int(c.fd)) }

func (p *poller) close() error { return p.ep.Close() }
