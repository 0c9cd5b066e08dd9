//go:build linux

package wsconn

import (
	"errors"
	"fmt"

	"github.com/mailru/easygo/netpoll"
)

// easyPoller is the transport's readiness over mailru/easygo's epoll
// (Config.Poller PollerEasygo): easygo waits in epoll_wait on a goroutine
// of its own and calls, there, the callback a connection registered,
// which hands the connection to the pool. It takes raw descriptor
// numbers (netpoll.Epoll), not netpoll.Desc, whose os.File would switch
// the socket to blocking mode and close it from a finalizer. Next to the
// default poller it costs a wake-up and a handoff per read notification
// and a map entry and a closure per connection (bench/RESULTS.md, "The
// easygo poller"); it never leads, so handoff has nothing to do.
type easyPoller struct {
	ep   *netpoll.Epoll
	pool *pool
}

// easyEvents are readEvents in easygo's type: one read notification,
// re-armed by rearm.
const easyEvents = netpoll.EpollEvent(readEvents)

func newEasyPoller(pool *pool, onErr func(error)) (watcher, error) {
	ep, err := netpoll.EpollCreate(&netpoll.EpollConfig{OnWaitError: onErr})
	if err != nil {
		return nil, fmt.Errorf("wsconn: easygo epoll: %w", err)
	}
	return &easyPoller{ep: ep, pool: pool}, nil
}

func (p *easyPoller) add(c *Conn) error {
	if c.fd < 0 {
		return errors.New("wsconn: connection has no descriptor")
	}
	err := p.ep.Add(int(c.fd), easyEvents, func(ev netpoll.EpollEvent) {
		// Close calls every callback once more with an event of its own:
		// only readiness schedules a read.
		if ev&(netpoll.EPOLLIN|netpoll.EPOLLRDHUP|netpoll.EPOLLHUP|netpoll.EPOLLERR) != 0 {
			p.pool.schedule(c)
		}
	})
	if err != nil {
		return fmt.Errorf("wsconn: easygo epoll add: %w", err)
	}
	return nil
}

func (p *easyPoller) rearm(c *Conn) error {
	if err := p.ep.Mod(int(c.fd), easyEvents); err != nil {
		return fmt.Errorf("wsconn: easygo epoll mod: %w", err)
	}
	return nil
}

// remove stops watching c; the caller holds c.mu, before closing the
// socket. A callback easygo took before the removal may still run: it
// schedules c, whose read then finds it closing (Conn.onReadable), never
// a later connection with the same descriptor number.
func (p *easyPoller) remove(c *Conn) error {
	err := p.ep.Del(int(c.fd))
	if err == nil || errors.Is(err, netpoll.ErrNotRegistered) || errors.Is(err, netpoll.ErrClosed) {
		return nil
	}
	return fmt.Errorf("wsconn: easygo epoll del: %w", err)
}

func (p *easyPoller) close() error {
	if err := p.ep.Close(); err != nil && !errors.Is(err, netpoll.ErrClosed) {
		return fmt.Errorf("wsconn: closing easygo epoll: %w", err)
	}
	return nil
}

func (p *easyPoller) handoff() {}
