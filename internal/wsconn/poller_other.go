//go:build !linux

package wsconn

import "sync"

// poller is the portable stand-in for the epoll poller of poller_linux.go:
// it parks one goroutine per connection on the runtime's own poller until the
// socket is readable. It keeps the router usable for development on other
// systems; production runs on Linux, where an idle connection holds no
// goroutine.
type poller struct {
	mu     sync.Mutex
	wake   map[*Conn]chan struct{}
	closed bool
}

func newPoller(*pool, func(error)) (watcher, error) {
	return &poller{wake: make(map[*Conn]chan struct{})}, nil
}

func (p *poller) add(c *Conn) error {
	rc, err := c.rawConn()
	if err != nil {
		return err
	}
	ch := make(chan struct{}, 1)
	p.mu.Lock()
	p.wake[c] = ch
	p.mu.Unlock()
	go func() {
		for {
			waited := false
			err := rc.Read(func(uintptr) bool {
				if !waited {
					waited = true
					return false
				}
				return true
			})
			if err != nil {
				return
			}
			c.t.pool.schedule(c)
			if _, ok := <-ch; !ok {
				return
			}
		}
	}()
	return nil
}

func (p *poller) rearm(c *Conn) error {
	p.mu.Lock()
	ch := p.wake[c]
	p.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return nil
}

func (p *poller) remove(c *Conn) error {
	p.mu.Lock()
	if ch, ok := p.wake[c]; ok {
		close(ch)
		delete(p.wake, c)
	}
	p.mu.Unlock()
	return nil
}

func (p *poller) close() error { return nil }

// handoff does nothing: here every connection is read on a pool worker,
// never by the goroutine that waits.
func (p *poller) handoff() {}
