package router

import (
	"log/slog"
	"runtime"
	"time"
)

// Version is the tagwamp release this router belongs to.
const Version = "0.1.0"

// Options configure a Server. The zero value serves: every field documents
// its default and, where it has one, its off switch.
type Options struct {
	// ServerIdent is sent in WELCOME (wamp1.md §2). Default "tagwamp/<Version>".
	ServerIdent string

	// MaxMessageSize is the largest message, in bytes, a client may send
	// (fragments added up). A larger one closes the session with 1009
	// without buffering the rest (wamp1.md §3). Default 1 MiB.
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

	// HandshakeTimeout bounds the HTTP upgrade of a new connection.
	// Default 10s.
	HandshakeTimeout time.Duration

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
	// receive its own event, as the spec authors' router (wamp1.md §2).
	DeliverToPublisher bool

	// RPC answers CALLs. Default: none, so every call gets
	// http://api.wamp.ws/error#NoSuchRPCEndpoint.
	RPC RPCHandler
	// RPCMiddleware decorates RPC, the first one outermost.
	RPCMiddleware []RPCMiddleware

	// Topics authorizes and transforms SUBSCRIBE and PUBLISH. Default
	// AllowTopics.
	Topics TopicHandler
	// TopicMiddleware decorates Topics, the first one outermost.
	TopicMiddleware []TopicMiddleware

	// ConnMiddleware runs on every accepted connection before its
	// handshake, in order; HandshakeMiddleware on every upgrade request;
	// MessageMiddleware on every decoded WAMP message, the first one
	// outermost. Default: none.
	ConnMiddleware      []ConnMiddleware
	HandshakeMiddleware []HandshakeMiddleware
	MessageMiddleware   []MessageMiddleware

	// SessionHooks observe each session's opening and closing, in order
	// (see SessionHook). Default: none.
	SessionHooks []SessionHook

	// Logger receives the server's logs. Default: discarded.
	Logger *slog.Logger
}

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
	if o.Topics == nil {
		o.Topics = AllowTopics{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
