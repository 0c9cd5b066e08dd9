package router

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/tagwamp/tagwamp/tagindex"
)

// Call is one CALL as an RPC handler sees it (docs/protocol.md#messages).
type Call struct {
	// URI is the procedure URI with any CURIE already resolved.
	URI string
	// Args are the call arguments as raw JSON values, zero or more, any JSON
	// type. They alias the frame buffer: valid until the handler returns. A
	// handler that keeps one must copy it.
	Args []json.RawMessage

	// Set by the router for the call it dispatches; see Defer.
	srv   *Server
	sess  *Session
	id    []byte // the call id as sent, borrowed from the frame
	reply *Reply
}

// RPCHandler answers calls. The result is marshaled to JSON for the
// CALLRESULT (nil becomes null; a json.RawMessage passes through as is). An
// error becomes a CALLERROR: a *protocol.Error keeps its URI, description and
// details; an error wrapping ErrNoSuchProcedure becomes
// http://api.wamp.ws/error#NoSuchRPCEndpoint; context.DeadlineExceeded
// becomes ...#timeout; anything else becomes ...#internal with a generic
// description (the error itself is logged, never sent).
//
// ServeCall runs on the server's worker pool and must honour ctx: a slow
// handler delays the other messages of its session.
type RPCHandler interface {
	ServeCall(ctx context.Context, s *Session, c *Call) (result any, err error)
}

// RPCHandlerFunc adapts a function to RPCHandler.
type RPCHandlerFunc func(ctx context.Context, s *Session, c *Call) (any, error)

// ServeCall calls f.
func (f RPCHandlerFunc) ServeCall(ctx context.Context, s *Session, c *Call) (any, error) {
	return f(ctx, s, c)
}

// RPCMiddleware decorates an RPCHandler, for example with access control.
type RPCMiddleware func(next RPCHandler) RPCHandler

// ErrNoSuchProcedure is returned (possibly wrapped) by an RPCHandler that has
// nothing registered for a URI; the caller gets a NoSuchRPCEndpoint CALLERROR.
var ErrNoSuchProcedure = errors.New("router: no such procedure")

// Subscription is a SUBSCRIBE as a topic handler sees it, or the tag
// subscription of a plain tag connection, which the handler sees once,
// before the upgrade (Session.Plain is true, Topic is "" and Tags has no
// base; a refusal answers 403, or the handler's *HTTPError).
type Subscription struct {
	// Topic is the topic string exactly as subscribed, CURIE resolved. EVENTs
	// for this subscription carry it (docs/protocol.md#event-topic).
	// Read-only.
	Topic string
	// Tags is the tag set indexed for the subscription, parsed from Topic.
	// A handler may replace it (for example to add a bound tag); the EVENT
	// still carries Topic.
	Tags tagindex.Set
}

// Publication is a PUBLISH (or a server-side publish, or a plain tag
// connection's request) as a topic handler sees it.
type Publication struct {
	// Topic is the topic string as published, CURIE resolved ("" for a
	// plain tag connection's request, whose Tags have no base). Read-only,
	// and borrowed like Event: valid until the handler returns; copy it
	// (strings.Clone) to keep it.
	Topic string
	// Tags is the tag set P that selects receivers: every subscription whose
	// set contains P receives it (docs/protocol.md#tag-matching). A handler
	// may replace it.
	Tags tagindex.Set
	// Event is the payload as raw JSON. It aliases the frame buffer; a
	// handler may replace it with other valid JSON. Plain tag connections
	// receive it alone; WAMP subscribers receive it in an EVENT.
	Event json.RawMessage
	// Metadata is the metadata object of a plain tag connection's request
	// (docs/protocol.md#plain-requests), as raw JSON, or nil: WAMP
	// publications have none.
	// Borrowed like Event: valid until the handler returns. It may carry
	// credentials (package auth reads key and secret): never log it.
	Metadata json.RawMessage
}

// TopicHandler authorizes or transforms SUBSCRIBE and PUBLISH before the
// tag index does its work. A non-nil error drops the message: WAMP v1 has no
// error reply for them (docs/protocol.md#dropped-messages); the drop is
// counted and logged at debug level. Both methods run on the worker pool
// and must not block.
type TopicHandler interface {
	Subscribe(ctx context.Context, s *Session, sub *Subscription) error
	Publish(ctx context.Context, s *Session, pub *Publication) error
}

// TopicMiddleware decorates a TopicHandler.
type TopicMiddleware func(next TopicHandler) TopicHandler

// AllowTopics is the TopicHandler used when Options.Topics is nil: every
// subscription and publication is allowed unchanged.
type AllowTopics struct{}

// Subscribe allows sub.
func (AllowTopics) Subscribe(context.Context, *Session, *Subscription) error { return nil }

// Publish allows pub.
func (AllowTopics) Publish(context.Context, *Session, *Publication) error { return nil }

// ConnMiddleware sees every accepted connection before its handshake, with
// its raw remote address. A non-nil error closes the connection at once
// (for example an IP deny list).
type ConnMiddleware interface {
	AcceptConn(c net.Conn) error
}

// ConnMiddlewareFunc adapts a function to ConnMiddleware.
type ConnMiddlewareFunc func(c net.Conn) error

// AcceptConn calls f.
func (f ConnMiddlewareFunc) AcceptConn(c net.Conn) error { return f(c) }

// Request is the HTTP upgrade request of a session. Handshake middleware
// sees all of it; an established session keeps Header and Protocols only
// with Options.KeepRequestHeader (see Session.Request).
type Request struct {
	values map[any]any
	// plain: no subprotocol offered, a plain tag connection
	// (docs/protocol.md#plain-connections), whose tags plainTags are parsed
	// from the URL's tags parameter.
	plain     bool
	plainTags tagindex.Set

	// URI is the request target as sent, e.g. "/?tags=...".
	URI string
	// URL is URI parsed.
	URL *url.URL
	// Host is the Host header.
	Host string
	// Header holds the headers that are not part of the WebSocket handshake
	// itself (Origin, Cookie, X-Forwarded-For, ...). After the SessionOpened
	// hooks it is nil unless Options.KeepRequestHeader is set: middleware
	// that needs a header later stores what it learned with SetValue.
	Header http.Header
	// Protocols lists the subprotocols the client offered, in order. Like
	// Header, it is kept after the SessionOpened hooks only with
	// Options.KeepRequestHeader.
	Protocols []string
	// RemoteAddr is the peer address of the connection.
	RemoteAddr net.Addr
	// ClientIP is the address of the client: the peer's, or, when the peer
	// is one of Options.TrustedProxies, the one X-Forwarded-For names (see
	// TrustedProxies). Connection limits and logs use it. It is the zero
	// Addr only for a peer that is not an IP address (a pipe in tests).
	ClientIP netip.Addr
}

// SetValue stores a value with the request. When the upgrade succeeds, the
// session it opens starts with a copy of these values (Session.Value), so
// handshake middleware can hand what it learned (an authenticated identity,
// say) to the session. Keys follow context.WithValue's advice: use an
// unexported type. The handshake runs on one goroutine: SetValue is for
// HandshakeMiddleware, not for concurrent use.
func (r *Request) SetValue(key, value any) {
	if r.values == nil {
		r.values = make(map[any]any)
	}
	r.values[key] = value
}

// Value returns the value stored under key by SetValue, or nil.
func (r *Request) Value(key any) any { return r.values[key] }

// Plain reports whether the request offered no subprotocol: it opens a
// plain tag connection (docs/protocol.md#plain-connections), not a WAMP
// session.
func (r *Request) Plain() bool { return r.plain }

// HandshakeMiddleware inspects the upgrade request before the server
// answers it. A non-nil error refuses the upgrade: an *HTTPError chooses the
// status and reason; any other error answers 403 Forbidden.
type HandshakeMiddleware interface {
	Handshake(r *Request) error
}

// HandshakeMiddlewareFunc adapts a function to HandshakeMiddleware.
type HandshakeMiddlewareFunc func(r *Request) error

// Handshake calls f.
func (f HandshakeMiddlewareFunc) Handshake(r *Request) error { return f(r) }

// HTTPError refuses an upgrade with an HTTP status, a plain-text reason and
// optional extra response headers (Retry-After, WWW-Authenticate, ...).
type HTTPError struct {
	Status int
	Reason string
	// Header holds extra response headers; nil for none. Headers of the
	// WebSocket handshake itself are not allowed (gobwas/ws writes those).
	Header http.Header
}

func (e *HTTPError) Error() string { return e.Reason }

// SessionHook observes the lifecycle of sessions. SessionOpened runs once
// per session, after WELCOME is queued and before the session's first
// message is handled; SessionClosed runs once, when the session's
// connection is gone, and never before SessionOpened has returned. A
// session refused during shutdown before it was registered gets neither.
// Both run on router goroutines (the handshake's, or the one that closes
// the connection) and must not block; SessionOpened may close the session.
type SessionHook interface {
	SessionOpened(s *Session)
	SessionClosed(s *Session)
}
