package router

import (
	"net"
	"sync"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// Session is one WAMP v1 session: a connection that completed the handshake
// and received its WELCOME. Its methods are safe for concurrent use.
type Session struct {
	id  string
	c   *conn
	req *Request

	// w and prefixes belong to the worker serving the session, one at a
	// time (EPOLLONESHOT): w is that worker while it runs, prefixes the
	// session's CURIE map.
	w        *worker
	prefixes protocol.Prefixes

	mu       sync.Mutex
	subs     map[string]*subscription // by topic string, as subscribed
	values   map[any]any
	detached bool
}

// subscription is one entry of the tag index: a session and the topic
// string it subscribed with, which its EVENTs carry (wamp1.md §4).
type subscription struct {
	sess  *Session
	topic string
	h     tagindex.Handle // of its tag set in the index, to remove it
}

// ID returns the session id sent in WELCOME.
func (s *Session) ID() string { return s.id }

// RemoteAddr returns the peer address of the session's connection.
func (s *Session) RemoteAddr() net.Addr { return s.c.nc.RemoteAddr() }

// Request returns the HTTP upgrade request that opened the session.
func (s *Session) Request() *Request { return s.req }

// Value returns the value stored under key by SetValue, or nil.
func (s *Session) Value(key any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[key]
}

// SetValue stores a value with the session, for middleware and handlers
// (an authenticated identity, say). Keys follow context.WithValue's advice:
// use an unexported type.
func (s *Session) SetValue(key, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = make(map[any]any)
	}
	s.values[key] = value
}

// Close closes the session with a WebSocket close code and reason, after
// what is already queued for it.
func (s *Session) Close(code protocol.CloseCode, reason string) {
	s.c.closeWith(code, reason)
}

// detach removes the session's subscriptions from the index; it takes no
// new ones after.
func (s *Session) detach() {
	s.mu.Lock()
	if s.detached {
		s.mu.Unlock()
		return
	}
	s.detached = true
	subs := s.subs
	s.subs = nil
	s.mu.Unlock()
	for _, sub := range subs {
		s.c.srv.index.RemoveHandle(sub.h, sub)
	}
	s.c.srv.stats.subscriptions.Add(-int64(len(subs)))
}
