package router

import (
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// Session is one WAMP v1 session: a connection that completed the handshake
// and received its WELCOME. Its methods are safe for concurrent use.
type Session struct {
	id  string
	srv *Server
	c   *wsconn.Conn
	req *sessionRequest

	// prefixes and overSubs belong to the worker serving the session, one
	// at a time (EPOLLONESHOT): prefixes is the session's CURIE map.
	prefixes protocol.Prefixes
	overSubs bool // a SUBSCRIBE over MaxSubscriptions was logged
	plain    bool // a plain tag connection (docs/protocol.md#plain-connections); set before it is shared
	// detached: the session left the index and takes no subscriptions;
	// guarded by mu (it sits with the flags so that a Session stays 128
	// bytes).
	detached bool
	slot     atomic.Bool // holds a connection slot (Options.MaxConns)

	// hookMu is held while the SessionOpened hooks run, so that the
	// SessionClosed hooks never start before they are done.
	hookMu sync.Mutex

	// mu guards first, more, values, detached and req.full after the
	// handshake (see Request).
	mu sync.Mutex
	// first and more hold the session's subscriptions. Most sessions
	// have one: first, with nothing allocated beside it; more holds the
	// others, searched in order, and past subsInline an index of all of
	// them by topic string, as subscribed. first is nil only when more is.
	first  *subscription
	more   *subList
	values map[any]any
}

// subList is a session's subscriptions beyond the first.
type subList struct {
	subs  []*subscription
	index map[string]*subscription // all of them, first included; nil up to subsInline
}

// sessionRequest is what a session keeps of its upgrade request. During
// the handshake, full is the whole request; afterwards (trimRequest) a
// session keeps only the few fields below, and Request builds a Request
// from them when it is first asked for, unless full was kept
// (Options.KeepRequestHeader, handshake filters that changed URI or URL
// or stored values). clientIP and remote never change once set.
type sessionRequest struct {
	full      *Request
	uri, host string
	clientIP  netip.Addr
	// remote is a TCP peer's address, kept since a detached connection
	// (wsconn.Conn.Detach) has no net.Conn to ask.
	remote netip.AddrPort
}

// subsInline is how many subscriptions a session searches in order before
// it indexes them by topic.
const subsInline = 8

// subscription is one entry of the tag index: a session and the topic
// string it subscribed with, which its EVENTs carry
// (docs/protocol.md#event-topic).
type subscription struct {
	sess  *Session
	topic string
	h     tagindex.Handle // of its tag set in the index, to remove it
	plain bool            // a plain tag connection's: it receives the bare event
}

// ID returns the session id sent in WELCOME (a plain tag connection is
// sent none, but has one for logs and PUBLISH's exclude lists).
func (s *Session) ID() string { return s.id }

// Plain reports whether s is a plain tag connection
// (docs/protocol.md#plain-connections): it offered no subprotocol, was
// sent no WELCOME, and speaks JSON requests instead of WAMP messages.
func (s *Session) Plain() bool { return s.plain }

// RemoteAddr returns the peer address of the session's connection.
func (s *Session) RemoteAddr() net.Addr {
	if r := s.req; r != nil && r.remote.IsValid() {
		return net.TCPAddrFromAddrPort(r.remote)
	}
	if nc := s.c.NetConn(); nc != nil {
		return nc.RemoteAddr()
	}
	return nil
}

// BytesRead reports the WebSocket bytes read from the session's connection
// (frames as the client sent them, TLS records decrypted, the upgrade
// request not counted), and BytesWritten those written to it. Both
// saturate at 4 GiB (math.MaxUint32): a session past it reports that.
// In a SessionClosed hook they are final.
func (s *Session) BytesRead() uint64 { return s.c.BytesRead() }

// BytesWritten: see BytesRead.
func (s *Session) BytesWritten() uint64 { return s.c.BytesWritten() }

// Request returns the HTTP upgrade request that opened the session, as the
// handshake middleware left it. Unless Options.KeepRequestHeader is set,
// the session keeps only part of it once the SessionOpened hooks have run:
// Header and Protocols are nil, and URL is parsed again from URI on the
// first call (see Options.KeepRequestHeader).
func (s *Session) Request() *Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.req
	if r.full == nil {
		// trimRequest dropped the request only when the middleware left
		// URI and URL as parsed, so this is that URL.
		u, _ := url.ParseRequestURI(r.uri)
		r.full = &Request{URI: r.uri, URL: u, Host: r.host,
			RemoteAddr: s.RemoteAddr(), ClientIP: r.clientIP}
	}
	return r.full
}

// trimRequest lets the session's upgrade request go once the
// SessionOpened hooks have run, unless Options.KeepRequestHeader asks to
// keep it all: the session keeps URI, Host and the addresses, from which
// Request builds one again on demand. When handshake filters changed URI
// or URL (!asParsed) or stored values, it keeps a copy without the header
// fields and the offered subprotocols instead. A copy, so that middleware
// holding the original still sees all of it.
func (s *Session) trimRequest(asParsed bool) {
	if s.srv.opts.KeepRequestHeader {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.req
	full := r.full
	r.uri, r.host = full.URI, full.Host
	r.full = nil
	if !asParsed || len(full.values) > 0 {
		r.full = &Request{values: full.values, URI: full.URI, URL: full.URL, Host: full.Host,
			RemoteAddr: full.RemoteAddr, ClientIP: full.ClientIP}
	}
}

// sub returns the subscription made with exactly the topic string topic,
// or nil. The caller holds s.mu.
func (s *Session) sub(topic []byte) *subscription {
	if s.more != nil && s.more.index != nil {
		return s.more.index[string(topic)]
	}
	if s.first != nil && s.first.topic == string(topic) {
		return s.first
	}
	if s.more != nil {
		for _, e := range s.more.subs {
			if e.topic == string(topic) {
				return e
			}
		}
	}
	return nil
}

// numSubs is the number of the session's subscriptions. The caller holds
// s.mu.
func (s *Session) numSubs() int {
	switch {
	case s.first == nil:
		return 0
	case s.more == nil:
		return 1
	}
	return 1 + len(s.more.subs)
}

// addSub records a new subscription. The caller holds s.mu.
func (s *Session) addSub(e *subscription) {
	if s.first == nil {
		s.first = e
		return
	}
	if s.more == nil {
		s.more = new(subList)
	}
	m := s.more
	m.subs = append(m.subs, e)
	if m.index != nil {
		m.index[e.topic] = e
	} else if 1+len(m.subs) > subsInline {
		m.index = make(map[string]*subscription, 1+len(m.subs))
		m.index[s.first.topic] = s.first
		for _, e := range m.subs {
			m.index[e.topic] = e
		}
	}
}

// removeSub forgets the subscription made with exactly the topic string
// topic and returns it, or nil. The caller holds s.mu.
func (s *Session) removeSub(topic []byte) *subscription {
	e := s.sub(topic)
	if e == nil {
		return nil
	}
	m := s.more
	if m == nil {
		s.first = nil // e is first, the only one
		return e
	}
	if m.index != nil {
		delete(m.index, e.topic)
	}
	last := len(m.subs) - 1
	if e == s.first {
		s.first = m.subs[last] // the last takes the first's place
	} else {
		for i, x := range m.subs {
			if x == e {
				m.subs[i] = m.subs[last]
				break
			}
		}
	}
	m.subs[last] = nil
	m.subs = m.subs[:last]
	if last == 0 {
		s.more = nil
	}
	return e
}

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
	s.c.Close(ws.StatusCode(code), reason)
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
	var subs []*subscription
	if s.more != nil {
		subs = s.more.subs
	}
	if s.first != nil {
		subs = append(subs, s.first)
	}
	s.first, s.more = nil, nil
	s.mu.Unlock()
	for _, sub := range subs {
		if s.srv.opts.Broker != nil {
			s.srv.interestRemove(sub.h)
		}
		s.srv.index.RemoveHandle(sub.h, sub)
	}
	s.srv.stats.subscriptions.Add(-int64(len(subs)))
}

// connHandler is a Session as the wsconn.Handler of its connection: the
// transport hands it each message and the connection's end. (A conversion
// of *Session, so the session needs no second object.)
type connHandler Session

// HandleMessage decodes and dispatches one message of the session, on the
// transport worker tw.
func (h *connHandler) HandleMessage(tw *wsconn.Worker, _ ws.OpCode, payload []byte) bool {
	s := (*Session)(h)
	return s.srv.handleMessage(tw.Local.(*worker), s, payload)
}

// ConnClosing takes the session out of the tag index as soon as its
// connection stops reading, so nothing more is queued for it.
func (h *connHandler) ConnClosing() { (*Session)(h).detach() }

// ConnClosed releases the session's connection slot and, for a registered
// session, runs the SessionClosed hooks.
func (h *connHandler) ConnClosed() {
	s := (*Session)(h)
	s.releaseSlot()
	if s.srv.unregister(s) && len(s.srv.opts.SessionHooks) > 0 {
		s.hookMu.Lock() // after the SessionOpened hooks, never during
		for _, hook := range s.srv.opts.SessionHooks {
			hook.SessionClosed(s)
		}
		s.hookMu.Unlock()
	}
}

// ClientIP is the client's address (Request.ClientIP), for the
// transport's logs and Conn.ClientIP (wsconn.ClientIPer); the zero Addr
// before the handshake has computed it.
func (h *connHandler) ClientIP() netip.Addr {
	if r := h.req; r != nil {
		return r.clientIP
	}
	return netip.Addr{}
}

// LogValue names the session in the transport's logs.
func (h *connHandler) LogValue() slog.Value { return slog.StringValue(h.id) }
