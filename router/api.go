package router

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"

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
	// checked holds the arguments as the router checked them (decoded
	// from the frame, or by CallAsBackend): ArgsList trusts an argument
	// only while Args still holds that very value.
	checked [][]byte
	// slab is the dispatching worker's source of ArgsList results; nil
	// outside a worker.
	slab *resultSlab
}

// RPCHandler answers calls. The result is marshaled to JSON for the
// CALLRESULT (nil becomes null; a json.RawMessage passes through as is). An
// error becomes the CALLERROR that CallError maps it to: a *protocol.Error
// as is, ErrNoSuchProcedure as NoSuchRPCEndpoint, a deadline as timeout,
// anything else as internal with a generic description (the error itself
// is logged, never sent).
//
// ServeCall runs on the worker serving the session, which leaves the
// worker pool meanwhile (Options.MaxRunningCalls), and must honour ctx: a
// slow handler delays only the other messages of its own session. A
// handler that never blocks can say so (InlineHandler) and be spared
// leaving the pool.
type RPCHandler interface {
	ServeCall(ctx context.Context, s *Session, c *Call) (result any, err error)
}

// RPCHandlerFunc adapts a function to RPCHandler.
type RPCHandlerFunc func(ctx context.Context, s *Session, c *Call) (any, error)

// ServeCall calls f.
func (f RPCHandlerFunc) ServeCall(ctx context.Context, s *Session, c *Call) (any, error) {
	return f(ctx, s, c)
}

// InlineHandler is an RPCHandler that can tell, call by call, that it
// answers at once: without blocking, without I/O, in about the time the
// answer takes to encode (the built-in procedures of package handlers, a
// handler that defers its answer with Call.Defer and returns). The router
// runs such a call on the goroutine that read it, as it is read: the call
// does not leave the worker pool first, is not counted by
// Options.MaxRunningCalls, and the goroutine that waits for readiness may
// answer it itself, with no other goroutine woken (docs/architecture.md,
// "The path of a CALL"). Its context is the server's, without the
// Options.CallTimeout deadline, which a call that never waits cannot
// reach. A handler that says true and then blocks stops the reading of
// other sessions while it does: say true only for what never waits. A
// panic is recovered and answered as for any handler.
//
// Options.RPC implements it to opt in. With Options.RPCMiddleware, the
// handler each middleware returns must implement it as well (asking its
// next handler, as handlers.LogCalls does), or no call is inline.
type InlineHandler interface {
	RPCHandler
	// Inline reports whether ServeCall answers c at once. It is called
	// before ServeCall, on the same goroutine, and must itself be cheap.
	Inline(c *Call) bool
}

// Inline marks h as answering every call at once (InlineHandler): for
// handlers that never block, such as one that computes its result from
// the arguments.
func Inline(h RPCHandler) InlineHandler { return inlineHandler{h} }

type inlineHandler struct{ RPCHandler }

func (inlineHandler) Inline(*Call) bool { return true }

// RPCMiddleware decorates an RPCHandler, for example with access control
// or logging: it returns a handler that may answer a call itself or pass it
// to next.
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

// TopicHandler is a topic policy: it authorizes or transforms SUBSCRIBE
// and PUBLISH before the tag index does its work. The server runs its topic
// handlers in order (Options.Topics, after those of Options.Extensions),
// each seeing sub or pub as the ones before it left them; the first non-nil
// error drops the message: WAMP v1 has no error reply for them
// (docs/protocol.md#dropped-messages), so the drop is counted and logged at
// debug level. Both methods run on the worker pool and must not block.
type TopicHandler interface {
	Subscribe(ctx context.Context, s *Session, sub *Subscription) error
	Publish(ctx context.Context, s *Session, pub *Publication) error
}

// TopicFuncs adapts functions to TopicHandler. A nil func allows: the zero
// TopicFuncs allows every subscription and publication unchanged.
type TopicFuncs struct {
	OnSubscribe func(ctx context.Context, s *Session, sub *Subscription) error
	OnPublish   func(ctx context.Context, s *Session, pub *Publication) error
}

// Subscribe calls OnSubscribe, or allows sub when it is nil.
func (f TopicFuncs) Subscribe(ctx context.Context, s *Session, sub *Subscription) error {
	if f.OnSubscribe == nil {
		return nil
	}
	return f.OnSubscribe(ctx, s, sub)
}

// Publish calls OnPublish, or allows pub when it is nil.
func (f TopicFuncs) Publish(ctx context.Context, s *Session, pub *Publication) error {
	if f.OnPublish == nil {
		return nil
	}
	return f.OnPublish(ctx, s, pub)
}

// topicList runs several topic handlers in order, as Options.Topics
// describes.
type topicList []TopicHandler

func (l topicList) Subscribe(ctx context.Context, s *Session, sub *Subscription) error {
	for _, h := range l {
		if err := h.Subscribe(ctx, s, sub); err != nil {
			return err
		}
	}
	return nil
}

func (l topicList) Publish(ctx context.Context, s *Session, pub *Publication) error {
	for _, h := range l {
		if err := h.Publish(ctx, s, pub); err != nil {
			return err
		}
	}
	return nil
}

// topicsOf returns one TopicHandler that runs hs in order; with none, it
// allows everything.
func topicsOf(hs []TopicHandler) TopicHandler {
	switch len(hs) {
	case 0:
		return TopicFuncs{}
	case 1:
		return hs[0]
	}
	return topicList(slices.Clone(hs))
}

// HandshakeFilter admits or refuses connections: the server asks every
// filter (those of Options.Extensions, then Options.Filters, in order)
// about every upgrade request before it answers it, and the first non-nil
// error refuses the upgrade: an *HTTPError chooses the status, reason and
// headers; any other error answers 403 Forbidden without its text.
//
// A filter that can decide from the connection alone (an IP deny list)
// also implements ConnFilter, and is then asked before any byte is read.
type HandshakeFilter interface {
	Handshake(r *Request) error
}

// HandshakeFilterFunc adapts a function to HandshakeFilter.
type HandshakeFilterFunc func(r *Request) error

// Handshake calls f.
func (f HandshakeFilterFunc) Handshake(r *Request) error { return f(r) }

// ConnFilter is the optional capability of a HandshakeFilter that checks an
// accepted connection before its TLS handshake and HTTP upgrade, with its
// raw remote address; a non-nil error closes the connection at once,
// unanswered. The server finds it by type assertion and asks it about
// every connection except those whose peer is one of
// Options.TrustedProxies: a proxy is not the client, whose address only the
// upgrade request names (Request.ClientIP), so for those the filter's
// Handshake decides alone.
type ConnFilter interface {
	AcceptConn(c net.Conn) error
}

// ConnFilterFunc adapts a function to a HandshakeFilter that checks
// connections only: f is its AcceptConn, and its Handshake admits every
// request.
type ConnFilterFunc func(c net.Conn) error

// AcceptConn calls f.
func (f ConnFilterFunc) AcceptConn(c net.Conn) error { return f(c) }

// Handshake admits r: a ConnFilterFunc decides on the connection alone.
func (f ConnFilterFunc) Handshake(*Request) error { return nil }

// Request is the HTTP upgrade request of a session. Handshake filters
// see all of it; an established session keeps Header and Protocols only
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
	// hooks it is nil unless Options.KeepRequestHeader is set: a filter
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
// handshake filters can hand what they learned (an authenticated identity,
// say) to the session. Keys follow context.WithValue's advice: use an
// unexported type. The handshake runs on one goroutine: SetValue is for
// handshake filters, not for concurrent use.
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

// SessionHookFuncs adapts functions to SessionHook; a nil func does
// nothing.
type SessionHookFuncs struct {
	OnOpened func(s *Session)
	OnClosed func(s *Session)
}

// SessionOpened calls OnOpened, if set.
func (f SessionHookFuncs) SessionOpened(s *Session) {
	if f.OnOpened != nil {
		f.OnOpened(s)
	}
}

// SessionClosed calls OnClosed, if set.
func (f SessionHookFuncs) SessionClosed(s *Session) {
	if f.OnClosed != nil {
		f.OnClosed(s)
	}
}

// Extension is a set of plug points that work together and must be
// layered the same way wherever they are installed, like package auth's
// (its filter admits a session that its RPC and topic policies then
// check). Give it in Options.Extensions: the server puts each part in its
// fixed place (the package doc, "Handlers and middleware"), whatever the
// order in which the Options were built. A nil field is no part.
type Extension struct {
	// Filter admits connections, before Options.Filters.
	Filter HandshakeFilter
	// RPC decorates calls inside Options.RPCMiddleware, just around
	// Options.RPC.
	RPC RPCMiddleware
	// Topics decides on subscriptions and publications before
	// Options.Topics.
	Topics TopicHandler
	// Hook observes sessions before Options.SessionHooks.
	Hook SessionHook
	// Drain, when not nil, is run by Server.Shutdown once the listeners
	// are closed and before the sessions are: it should stop taking new
	// work and return when what it has in flight (deferred calls, say) is
	// answered, or when its context ends, so that the answers still reach
	// open sessions. Its context ends with Shutdown's or, when that has a
	// deadline, a tenth of the time left (at most a second) before it,
	// which is left to write what is queued and close the sessions. The
	// Drains of all Extensions run at once; an error is logged.
	Drain func(ctx context.Context) error
}
