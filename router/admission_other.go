//go:build !linux

package router

import (
	"syscall"
	"time"
)

// waitRoom is the portable waiting room, for development on systems
// without epoll: one goroutine per connection waits for its first byte
// through the runtime's poller, under HandshakeFirstByteTimeout. Linux
// holds silent connections without a goroutine (admission_linux.go).
type waitRoom struct{ srv *Server }

func (r *waitRoom) add(pc *pendingConn) {
	sc, ok := pc.nc.(syscall.Conn)
	if !ok {
		r.srv.ready(pc)
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		r.srv.ready(pc)
		return
	}
	go func() {
		pc.nc.SetReadDeadline(pc.accepted.Add(r.srv.opts.HandshakeFirstByteTimeout))
		waited := false
		err := rc.Read(func(uintptr) bool { // false: wait until readable
			if waited {
				return true
			}
			waited = true
			return false
		})
		if err != nil {
			if time.Since(pc.accepted) >= r.srv.opts.HandshakeFirstByteTimeout {
				r.srv.stats.silentConns.Add(1)
			}
			r.srv.dropPending(pc, "no byte within the first-byte timeout: "+err.Error())
			return
		}
		r.srv.ready(pc)
	}()
}

// close has nothing to empty: Shutdown closes the pending sockets, which
// ends their waits.
func (r *waitRoom) close() []*pendingConn { return nil }

func (r *waitRoom) wait() {}
