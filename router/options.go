package router

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
)

// Version is the tagwamp release this router belongs to.
const Version = "0.1.0"

// Options configure a Server. The zero value serves: every field documents
// its default and, where it has one, its off switch.
type Options struct {
	// ServerIdent is sent in WELCOME (docs/protocol.md#welcome). Default
	// "tagwamp/<Version>".
	ServerIdent string

	// MaxMessageSize is the largest message, in bytes, a client may send
	// (fragments added up). A larger one closes the session with 1009
	// without buffering the rest (docs/protocol.md#limits). Default 1 MiB.
	MaxMessageSize int

	// MaxQueueBytes bounds the bytes queued for one session and not yet
	// written. A session whose queue passes it is a slow consumer: it is
	// closed (1008, "slow consumer") and counted, and nobody else waits for
	// it. Default 4 MiB.
	MaxQueueBytes int

	// Workers bounds the goroutines that read frames and run handlers.
	// Idle workers exit after a few seconds, so an idle server holds none.
	// Default 64 per CPU (runtime.GOMAXPROCS).
	Workers int

	// HandshakeTimeout bounds the TLS handshake and the HTTP upgrade of a
	// new connection, together, from its accept (slowloris). Default 10s.
	HandshakeTimeout time.Duration

	// MaxHandshakes bounds the connections that have sent their first
	// byte and are not yet sessions: each runs its TLS handshake and HTTP
	// upgrade on its own short-lived goroutine, at most MaxHandshakes at
	// once. When all places are taken the others wait for one in arrival
	// order, without a goroutine; the accept loop never waits, and live
	// sessions are served by the separate Workers pool. A slow client
	// holds its place for at most HandshakeTimeout from its accept; a
	// silent one never takes one (HandshakeFirstByteTimeout). Default 128
	// per CPU (runtime.GOMAXPROCS); it cannot be turned off.
	MaxHandshakes int

	// HandshakeFirstByteTimeout is how long an accepted connection may
	// stay silent before it is closed, counted in Stats.SilentConns.
	// Until its first byte arrives a connection holds no goroutine and no
	// place among MaxHandshakes: it waits in a poller of its own, so that
	// sockets that never speak (slowloris) cannot keep honest clients
	// waiting. The rest of the handshake still ends within
	// HandshakeTimeout of the accept. Default 3s, room for a lost packet
	// or two on a slow mobile link; a negative value turns it off (only
	// HandshakeTimeout applies); it never exceeds HandshakeTimeout.
	HandshakeFirstByteTimeout time.Duration

	// MaxHandshakesPerIP bounds the connections of one peer address that
	// are accepted and not yet sessions (silent, waiting for a place or
	// upgrading). One more is closed at once, before anything is read,
	// and counted in Stats.HandshakesPerIPRefused. The peer address is the
	// socket's (no header has been read yet); peers in TrustedProxies are
	// not counted. Default 4096: behind a NAT a reconnect storm brings
	// thousands of honest clients from one address, and silent sockets are
	// already cheap (HandshakeFirstByteTimeout); this caps the descriptors
	// one address can hold. Negative: no limit.
	MaxHandshakesPerIP int

	// MaxRequestLine bounds the request line of an upgrade request
	// (method, URI, version; its CRLF not counted): a longer one is
	// answered 414 URI Too Long. MaxHeaderLine bounds each header line,
	// MaxHandshakeBytes the whole request up to its blank line: past
	// either, 431 Request Header Fields Too Large. They are checked as
	// bytes arrive, before gobwas/ws buffers or parses them, and counted
	// in Stats.RequestsTooLarge. Defaults 8 KiB (Apache's and nginx's
	// request line; a token of auth.MaxTokenLen fits), 16 KiB (twice
	// nginx's, for the Cookie lines of browsers) and 64 KiB (twice nginx's
	// 32 KiB total). They cannot be turned off.
	MaxRequestLine    int
	MaxHeaderLine     int
	MaxHandshakeBytes int

	// MaxConns bounds the open connections in total, and MaxConnsPerIP
	// those of one client IP (Request.ClientIP, so behind a proxy set
	// TrustedProxies too). A connection counts from the moment its upgrade
	// request is accepted until its session is closed. One over either
	// limit is refused before the upgrade with 503 Service Unavailable, a
	// Retry-After header and a plain reason, and counted in
	// Stats.ConnsRefused. Default 0 for both: no limit (the descriptor
	// limit of the process still bounds the total; the accept loop backs
	// off when it is reached). They are off by default because a NAT or a
	// proxy puts many users behind one address: turn MaxConnsPerIP on once
	// TrustedProxies describes your proxies.
	MaxConns      int
	MaxConnsPerIP int

	// RetryAfter is the delay a connection refused by MaxConns or
	// MaxConnsPerIP is told to wait (Retry-After, in whole seconds).
	// Default 5s.
	RetryAfter time.Duration

	// TrustedProxies lists the networks of the reverse proxies in front of
	// the server. When a connection's peer is in one of them, its client IP
	// is the rightmost address of X-Forwarded-For that is not itself in
	// one of them (the proxies append what they saw, so that address is
	// the first one no trusted hop vouches for); otherwise the client IP is
	// the peer's. X-Forwarded-For from other peers is ignored, since anyone
	// can send one. Default none: the client IP is always the peer's.
	TrustedProxies []netip.Prefix

	// MaxSubscriptions bounds the subscriptions of one session. A
	// SUBSCRIBE past it is dropped (docs/protocol.md#dropped-messages),
	// counted in Stats.SubscriptionsOverLimit and DroppedSubscribes,
	// and logged. Default 1000, far above what a page or a backend holds
	// (a backend subscribes with tag sets, not one topic per user);
	// negative: no limit.
	MaxSubscriptions int

	// MaxPrefixes bounds the CURIE prefixes one session may define; a
	// PREFIX past it closes the session with 1008 (docs/protocol.md#curies).
	// Default protocol.MaxPrefixes (256); negative: no limit.
	MaxPrefixes int

	// MessageRate limits the frames (WAMP messages and pings) one session
	// may send, and ByteRate the bytes (frame headers included), each with
	// a token bucket of Burst tokens refilled at PerSecond. A session that
	// empties a bucket is closed with 1008 and a reason naming the limit,
	// counted in Stats.RateLimited and logged; other sessions are not
	// affected. Closing rather than pausing the reader: WAMP v1 has no way
	// to tell a client it is throttled, a session that sends this much is
	// broken or hostile, and a paused one would hold its buffers and
	// need a timer to wake. Defaults: 10,000 messages per second with a
	// burst of 20,000, and 16 MiB per second with a burst of 32 MiB (never
	// below MaxMessageSize): a browser sends a few messages per second and
	// a busy backend publisher stays well under. A negative PerSecond turns
	// that limit off.
	MessageRate RateLimit
	ByteRate    RateLimit

	// TLSConfig, when set, makes every accepted connection speak TLS
	// (wss://): the TLS handshake runs in the handshake pool under
	// HandshakeTimeout, and sessions read and write through crypto/tls (see
	// the package doc, "TLS"). It needs at least one certificate (or
	// GetCertificate). Its NextProtos default to "http/1.1". Default nil:
	// plain ws://. ListenAndServeTLS sets it from certificate files.
	TLSConfig *tls.Config

	// DisableIOUring writes the frames a worker queued to many sessions
	// with one writev per session. Default false: on Linux they go out
	// with one io_uring submission of sendmsg operations, which cost less
	// server CPU per delivery (bench/RESULTS.md, "io_uring"); where
	// io_uring is unavailable (an old kernel, the kernel.io_uring_disabled
	// sysctl, a seccomp filter) the server logs a warning once and writes
	// with writev. The environment variable TAGWAMP_IO_URING=on or off
	// overrides it, which the tests use to run both write paths.
	DisableIOUring bool

	// Poller chooses what waits for readable sessions: PollerDefault,
	// tagwamp's own epoll loop, whose goroutine reads the last ready
	// session itself, or PollerEasygo, mailru/easygo's epoll, which hands
	// every ready session to a worker (Linux only; bench/RESULTS.md, "The
	// easygo poller", has what each costs). The environment variable
	// TAGWAMP_POLLER=easygo or default overrides it (the tests run both).
	Poller string

	// WriteTimeout bounds one write to a session's socket; a peer that
	// accepts nothing for that long is closed and counted as a slow
	// consumer. Default 10s.
	WriteTimeout time.Duration

	// PingInterval is how long a session may stay silent before the server
	// pings it; PingTimeout is how long it then has to answer (with a pong
	// or any frame) before it is closed as dead. Defaults 30s and 15s.
	// A negative PingInterval turns pings off.
	PingInterval time.Duration
	PingTimeout  time.Duration

	// CallTimeout bounds one RPC handler through its context; a handler
	// that returns after it answers http://api.wamp.ws/error#timeout.
	// Default 30s. A negative value turns it off.
	CallTimeout time.Duration

	// DeliverToPublisher makes a PUBLISH without element 3 reach its own
	// publisher (Ratchet's behaviour). Default false: the publisher does not
	// receive its own event, as the spec authors' router
	// (docs/protocol.md#publish-options).
	DeliverToPublisher bool

	// Broker joins this server to a cluster (broker.go): it is told which
	// tags the local subscriptions hold, handed a copy of every local
	// publication after its local delivery, and hands back, through
	// DeliverRemote, the publications of the other nodes. Default nil: a
	// single process, nothing leaves it. Package cluster provides one over
	// NATS.
	Broker Broker

	// The plug points; the package doc, "Handlers and middleware", shows
	// how they are layered.

	// Filters admit or refuse connections, in order (see HandshakeFilter).
	// Default: none, every connection is admitted.
	Filters []HandshakeFilter

	// RPC answers CALLs. Default: none, so every call that RPCMiddleware
	// and the Extensions do not answer gets
	// http://api.wamp.ws/error#NoSuchRPCEndpoint.
	RPC RPCHandler
	// RPCMiddleware decorates RPC, the first one outermost. Default: none.
	RPCMiddleware []RPCMiddleware

	// Topics decide on SUBSCRIBE and PUBLISH, in order (see TopicHandler).
	// Default: none, every subscription and publication is allowed
	// unchanged.
	Topics []TopicHandler

	// SessionHooks observe each session's opening and closing, in order
	// (see SessionHook). Default: none.
	SessionHooks []SessionHook

	// Extensions install sets of plug points that work together, such as
	// package auth's, each part in its fixed layer (see Extension).
	// Default: none.
	Extensions []Extension

	// KeepRequestHeader makes every session keep its whole upgrade request
	// for its lifetime (Session.Request): the header fields and the offered
	// subprotocols. Default false: handshake filters and the
	// SessionOpened hooks see the whole request, and then the session keeps
	// URI, URL, Host, RemoteAddr, ClientIP and the request's values, but
	// not Header and Protocols, to keep idle sessions small
	// (bench/RESULTS.md, "Idle sessions"). A filter that needs a
	// header later stores what it learned with Request.SetValue.
	KeepRequestHeader bool

	// MaxURILength bounds a procedure URI or topic once its CURIE is
	// resolved, and the URI of a PREFIX (docs/protocol.md#limits): a CALL
	// over it is answered with http://api.wamp.ws/error#invalid-argument, a
	// SUBSCRIBE, UNSUBSCRIBE, PUBLISH or PREFIX over it closes the session
	// with 1002. Counted in Stats.URIsTooLong. Default 4096 bytes;
	// negative: no limit.
	MaxURILength int

	// MaxTagsPerTopic bounds the tags of one topic, of a plain tag
	// connection's URL or request, and of a server-side Publish. A
	// SUBSCRIBE or PUBLISH over it is dropped as malformed
	// (docs/protocol.md#dropped-messages), counted in
	// Stats.TopicsOverTagLimit. Default 32 (tagindex.MaxTags); negative: no
	// limit.
	MaxTagsPerTopic int

	// MaxMessageElements bounds the JSON values of one message, nested ones
	// included (a CALL's arguments, say): a message over it closes the
	// session with 1009 before its values are collected. MaxPublishIDs
	// bounds each of a PUBLISH's exclude and eligible lists: over it, 1002.
	// Both are counted in Stats.MessagesOverLimit. Defaults 4096 each;
	// negative: no limit.
	MaxMessageElements int
	MaxPublishIDs      int

	// MaxRunningCalls bounds the RPC handlers running at once. A worker
	// that runs a handler leaves the worker pool while it does, so that
	// slow handlers never stop the server from reading other sessions and
	// delivering to them; a CALL that finds MaxRunningCalls handlers
	// running is answered at once with http://tagwamp.dev/error#busy and
	// counted in Stats.CallsBusy. A session's messages are handled in
	// order, so one session runs at most one handler at a time (a deferred
	// call, Call.Defer, does not count once its handler returned). A call
	// whose handler is inline (InlineHandler: the built-in procedures)
	// does not leave the pool and is not counted. Default 4096.
	MaxRunningCalls int

	// MaxBufferedInput bounds the input all sessions together hold
	// between reads (frames not fully arrived, fragments of a message
	// being joined); a session whose input would pass it is closed with
	// 1008 and counted in Stats.InputShed. A frame's buffer grows with the
	// bytes that arrive, never with the length its header announces.
	// Default 256 MiB; negative: no bound.
	MaxBufferedInput int

	// MaxQueuedTotal bounds the bytes queued to all sessions together and
	// not yet written (MaxQueueBytes bounds one session's). Past it, the
	// sessions that hold the most are closed with 1008 until the total is
	// under three quarters of it, counted in Stats.QueueShed. Default
	// 512 MiB; negative: no bound.
	MaxQueuedTotal int

	// FrameTimeout bounds how long a session may hold an incomplete frame
	// or fragmented message without sending more of it; one that stalls
	// longer is closed with 1008 and counted in Stats.StalledFrames.
	// Default 20s; negative: no bound.
	FrameTimeout time.Duration

	// HTTP serves the requests on the server's port that are not WebSocket
	// upgrades (a GET with Upgrade: websocket), with net/http: the HTTP
	// API, a page, health checks. They share the port, the TLS
	// configuration, the waiting room and the head limits with the
	// WebSocket sessions (docs/protocol.md#http-refusals). Default nil:
	// such requests are refused with 400, as a WebSocket server does.
	HTTP http.Handler
	// MaxHTTPConns bounds the connections HTTP serves at once; one more is
	// answered 503. Default 1024.
	MaxHTTPConns int

	// Observer, when not nil, is told how long RPC handlers ran and how
	// long frames waited in the sessions' write queues (see Observer):
	// package metrics's Histograms is one. Default nil: the router reads
	// no clock for it.
	Observer Observer

	// Logger receives the server's logs. Default: discarded.
	Logger *slog.Logger
}

// RateLimit is a token bucket: Burst tokens, refilled at PerSecond tokens
// per second. The zero value is the default of the Options field that holds
// it; a negative PerSecond turns the limit off.
type RateLimit struct {
	PerSecond int
	Burst     int
}

// Resolve is r as the server applies it: a zero rate takes def (and def's
// burst, unless r has one), a zero burst twice the rate; a limit that is
// off (a negative PerSecond) is the zero RateLimit. Other packages with
// rate limits of their own (auth's challenge rate) resolve them the same
// way.
func (r RateLimit) Resolve(def RateLimit) RateLimit {
	switch {
	case r.PerSecond < 0:
		return RateLimit{}
	case r.PerSecond == 0:
		r.PerSecond = def.PerSecond
		if r.Burst <= 0 {
			r.Burst = def.Burst
		}
	}
	if r.Burst <= 0 {
		r.Burst = 2 * r.PerSecond
	}
	return r
}

// The pollers of Options.Poller.
const (
	// PollerDefault is tagwamp's own epoll loop (docs/architecture.md);
	// the zero value chooses it too.
	PollerDefault = wsconn.PollerDefault
	// PollerEasygo is mailru/easygo's epoll; Linux only.
	PollerEasygo = wsconn.PollerEasygo
)

// Default limits; see Options.
const (
	defaultMaxSubscriptions = 1000
	defaultRetryAfter       = 5 * time.Second

	defaultFirstByteTimeout   = 3 * time.Second
	defaultMaxHandshakesPerIP = 4096
	defaultMaxRequestLine     = 8 << 10
	defaultMaxHeaderLine      = 16 << 10
	defaultMaxHandshakeBytes  = 64 << 10
)

var (
	defaultMessageRate = RateLimit{PerSecond: 10_000, Burst: 20_000}
	defaultByteRate    = RateLimit{PerSecond: 16 << 20, Burst: 32 << 20}
)

func (o Options) withDefaults() Options {
	if o.ServerIdent == "" {
		o.ServerIdent = "tagwamp/" + Version
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 1 << 20
	}
	if o.MaxQueueBytes <= 0 {
		o.MaxQueueBytes = 4 << 20
	}
	if o.Workers <= 0 {
		o.Workers = 64 * runtime.GOMAXPROCS(0)
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.MaxHandshakes <= 0 {
		o.MaxHandshakes = 128 * runtime.GOMAXPROCS(0)
	}
	switch {
	case o.HandshakeFirstByteTimeout == 0:
		o.HandshakeFirstByteTimeout = defaultFirstByteTimeout
	case o.HandshakeFirstByteTimeout < 0:
		o.HandshakeFirstByteTimeout = o.HandshakeTimeout
	}
	o.HandshakeFirstByteTimeout = min(o.HandshakeFirstByteTimeout, o.HandshakeTimeout)
	switch {
	case o.MaxHandshakesPerIP == 0:
		o.MaxHandshakesPerIP = defaultMaxHandshakesPerIP
	case o.MaxHandshakesPerIP < 0:
		o.MaxHandshakesPerIP = 0 // no limit
	}
	if o.MaxRequestLine <= 0 {
		o.MaxRequestLine = defaultMaxRequestLine
	}
	if o.MaxHeaderLine <= 0 {
		o.MaxHeaderLine = defaultMaxHeaderLine
	}
	if o.MaxHandshakeBytes <= 0 {
		o.MaxHandshakeBytes = defaultMaxHandshakeBytes
	}
	o.MaxConns = max(o.MaxConns, 0)
	o.MaxConnsPerIP = max(o.MaxConnsPerIP, 0)
	if o.RetryAfter <= 0 {
		o.RetryAfter = defaultRetryAfter
	}
	switch {
	case o.MaxSubscriptions == 0:
		o.MaxSubscriptions = defaultMaxSubscriptions
	case o.MaxSubscriptions < 0:
		o.MaxSubscriptions = 0 // no limit
	}
	switch {
	case o.MaxPrefixes == 0:
		o.MaxPrefixes = protocol.MaxPrefixes
	case o.MaxPrefixes < 0:
		o.MaxPrefixes = -1 // no limit (protocol.Prefixes.Max)
	}
	o.MessageRate = o.MessageRate.Resolve(defaultMessageRate)
	o.ByteRate = o.ByteRate.Resolve(defaultByteRate)
	if o.ByteRate.PerSecond > 0 {
		o.ByteRate.Burst = max(o.ByteRate.Burst, o.MaxMessageSize+2*ws.MaxHeaderSize)
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PingInterval == 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 15 * time.Second
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.MaxHTTPConns <= 0 {
		o.MaxHTTPConns = 1024
	}
	if o.MaxBufferedInput == 0 {
		o.MaxBufferedInput = 256 << 20
	}
	if o.MaxQueuedTotal == 0 {
		o.MaxQueuedTotal = 512 << 20
	}
	if o.FrameTimeout == 0 {
		o.FrameTimeout = 20 * time.Second
	}
	o = o.withExtensions()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// withExtensions puts the parts of o.Extensions in their layers (the
// package doc, "Handlers and middleware") and clears o.Extensions. The
// lists it returns are fresh: the caller's are never appended to.
func (o Options) withExtensions() Options {
	if len(o.Extensions) == 0 {
		return o
	}
	var filters []HandshakeFilter
	var rpc []RPCMiddleware
	var topics []TopicHandler
	var hooks []SessionHook
	for _, e := range o.Extensions {
		if e.Filter != nil {
			filters = append(filters, e.Filter)
		}
		if e.RPC != nil {
			rpc = append(rpc, e.RPC)
		}
		if e.Topics != nil {
			topics = append(topics, e.Topics)
		}
		if e.Hook != nil {
			hooks = append(hooks, e.Hook)
		}
	}
	o.Filters = slices.Concat(filters, o.Filters)
	o.RPCMiddleware = slices.Concat(o.RPCMiddleware, rpc)
	o.Topics = slices.Concat(topics, o.Topics)
	o.SessionHooks = slices.Concat(hooks, o.SessionHooks)
	o.Extensions = nil
	return o
}
