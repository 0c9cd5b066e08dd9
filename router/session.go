package router

import (
	"log/slog"
	"net"
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
	req *Request

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

	// mu guards subs, subIndex, values, detached and the lazy parts of
	// req (see Request).
	mu sync.Mutex
	// subs holds the session's subscriptions; most sessions have one or
	// a few, so they are a slice searched in order, and subIndex (by
	// topic string, as subscribed) is built only past subsInline.
	subs     []*subscription
	subIndex map[string]*subscription
	values   map[any]any
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
func (s *Session) RemoteAddr() net.Addr { return s.c.NetConn().RemoteAddr() }

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
	if s.req.URL == nil {
		// URI parsed at the handshake, and trimRequest dropped URL only
		// when the middleware left both as parsed, so this is that URL.
		s.req.URL, _ = url.ParseRequestURI(s.req.URI)
	}
	return s.req
}

// trimRequest replaces the session's upgrade request, unless
// Options.KeepRequestHeader asks to keep it all, by a copy without what an
// established session does not need: the header fields, the offered
// subprotocols, and URL when it is exactly what URI parses to (asParsed:
// Request parses it again on demand). A copy, so that middleware holding
// the original still sees all of it.
func (s *Session) trimRequest(asParsed bool) {
	if s.srv.opts.KeepRequestHeader {
		return
	}
	r := s.req
	t := &Request{values: r.values, URI: r.URI, URL: r.URL, Host: r.Host,
		RemoteAddr: r.RemoteAddr, ClientIP: r.ClientIP}
	if asParsed {
		t.URL = nil
	}
	s.mu.Lock()
	s.req = t
	s.mu.Unlock()
}

// sub returns the subscription made with exactly the topic string topic,
// or nil. The caller holds s.mu.
func (s *Session) sub(topic []byte) *subscription {
	if s.subIndex != nil {
		return s.subIndex[string(topic)]
	}
	for _, e := range s.subs {
		if e.topic == string(topic) {
			return e
		}
	}
	return nil
}

// addSub records a new subscription. The caller holds s.mu.
func (s *Session) addSub(e *subscription) {
	s.subs = append(s.subs, e)
	if s.subIndex != nil {
		s.subIndex[e.topic] = e
	} else if len(s.subs) > subsInline {
		s.subIndex = make(map[string]*subscription, len(s.subs))
		for _, e := range s.subs {
			s.subIndex[e.topic] = e
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
	for i, x := range s.subs {
		if x == e {
			last := len(s.subs) - 1
			s.subs[i] = s.subs[last]
			s.subs[last] = nil
			s.subs = s.subs[:last]
			break
		}
	}
	if s.subIndex != nil {
		delete(s.subIndex, e.topic)
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
	subs := s.subs
	s.subs, s.subIndex = nil, nil
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

// LogValue names the session in the transport's logs.
func (h *connHandler) LogValue() slog.Value { return slog.StringValue(h.id) }
