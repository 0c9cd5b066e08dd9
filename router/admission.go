package router

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Admission: the path of a connection from accept to its handshake.
//
//	accept loop  accepts without waiting for anything; counts the peer
//	             address (MaxHandshakesPerIP, over it: closed at once)
//	waiting room holds the connection, with no goroutine, until its first
//	             byte (HandshakeFirstByteTimeout, then closed as silent)
//	places       a connection that spoke takes one of MaxHandshakes places
//	             and a handshake goroutine (serveConn), or waits for one in
//	             arrival order
//
// So silent sockets cost a descriptor and a few words each, never a
// goroutine or a place, the listen backlog keeps draining whatever they do,
// and an honest client's handshake waits only for clients that send.

// pendingConn is an accepted connection that is not yet a session.
type pendingConn struct {
	nc       net.Conn
	tls      *tls.Config // nil for plain ws://
	accepted time.Time
	ip       netip.Addr // the peer's, counted in admission.perIP when counted
	counted  bool

	// The waiting room's (admission_linux.go): the key of its epoll
	// registration and the socket's descriptor.
	id uint64
	fd int
}

// deadline is when the connection's whole handshake must be done.
func (pc *pendingConn) deadline(srv *Server) time.Time {
	return pc.accepted.Add(srv.opts.HandshakeTimeout)
}

// admission counts the pending connections of each peer address and hands
// out the handshake places.
type admission struct {
	maxPerIP int
	mu       sync.Mutex // a leaf
	perIP    map[netip.Addr]int
	free     int            // places not taken (MaxHandshakes at first)
	queue    []*pendingConn // connections that spoke and wait for a place
}

// enter counts pc against its peer address; false when that address
// already has MaxHandshakesPerIP pending connections. Trusted proxies are
// not counted: each carries many clients.
func (srv *Server) enter(pc *pendingConn) bool {
	a := &srv.admission
	if a.maxPerIP <= 0 {
		return true
	}
	ip := peerIP(pc.nc.RemoteAddr())
	if len(srv.opts.TrustedProxies) > 0 && trusted(srv.opts.TrustedProxies, ip) {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.perIP[ip] >= a.maxPerIP {
		return false
	}
	if a.perIP == nil {
		a.perIP = make(map[netip.Addr]int)
	}
	a.perIP[ip]++
	pc.ip, pc.counted = ip, true
	return true
}

// leave uncounts pc, once, when it becomes a session or is dropped.
func (srv *Server) leave(pc *pendingConn) {
	if !pc.counted {
		return
	}
	pc.counted = false
	a := &srv.admission
	a.mu.Lock()
	if n := a.perIP[pc.ip] - 1; n > 0 {
		a.perIP[pc.ip] = n
	} else {
		delete(a.perIP, pc.ip)
	}
	a.mu.Unlock()
}

// ready starts the handshake of pc, which has sent its first byte, on a
// goroutine of its own if a place is free, or queues it for the next place.
func (srv *Server) ready(pc *pendingConn) {
	a := &srv.admission
	a.mu.Lock()
	if a.free == 0 {
		a.queue = append(a.queue, pc)
		a.mu.Unlock()
		return
	}
	a.free--
	a.mu.Unlock()
	go srv.serveConn(pc)
}

// placeDone gives back the place of a handshake that ended, to the oldest
// queued connection whose handshake time is not over (those that are over
// are dropped).
func (srv *Server) placeDone() {
	a := &srv.admission
	now := time.Now()
	for {
		a.mu.Lock()
		if len(a.queue) == 0 {
			a.free++
			a.mu.Unlock()
			return
		}
		pc := a.queue[0]
		a.queue[0] = nil
		a.queue = a.queue[1:]
		if len(a.queue) == 0 {
			a.queue = nil // let the backing array go
		}
		a.mu.Unlock()
		if now.Before(pc.deadline(srv)) {
			go srv.serveConn(pc)
			return
		}
		srv.dropPending(pc, "handshake timed out waiting for a place")
	}
}

// drainQueue takes every queued connection, at shutdown.
func (srv *Server) drainQueue() []*pendingConn {
	a := &srv.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	q := a.queue
	a.queue = nil
	return q
}

// dropPending closes pc, which will not become a session and holds no place.
func (srv *Server) dropPending(pc *pendingConn, why string) {
	srv.stats.rejected.Add(1)
	srv.log.Debug("connection dropped before its handshake", "remote", pc.nc.RemoteAddr().String(), "reason", why)
	pc.nc.Close()
	srv.forget(pc.nc)
	srv.leave(pc)
	srv.handshake.Done()
}
