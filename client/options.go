package client

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Defaults used by Dial for the options that are not given.
const (
	// DefaultDialTimeout bounds the TCP connect, the TLS and WebSocket
	// handshakes and the wait for the WELCOME together.
	DefaultDialTimeout = 10 * time.Second

	// DefaultWriteTimeout bounds each write of a message to the socket.
	DefaultWriteTimeout = 10 * time.Second

	// DefaultCloseTimeout is how long Close waits for the server to answer
	// the close frame before closing the socket anyway.
	DefaultCloseTimeout = time.Second

	// DefaultMaxMessageSize is the largest message the client reads; a
	// larger one fails the connection with status 1009. It is the router's
	// default limit on messages it reads (docs/protocol.md#limits), with room
	// to spare.
	DefaultMaxMessageSize = 16 << 20
)

// Option configures Dial. Options are applied in order; a later one overrides
// an earlier one of the same kind.
type Option func(*options)

type options struct {
	header         http.Header
	dialTimeout    time.Duration
	writeTimeout   time.Duration
	closeTimeout   time.Duration
	maxMessageSize int64
	logger         *slog.Logger
	callID         func() string
	tlsConfig      *tls.Config
}

// withDefaults returns the options resolved from opts over the defaults.
func withDefaults(opts []Option) options {
	o := options{
		dialTimeout:    DefaultDialTimeout,
		writeTimeout:   DefaultWriteTimeout,
		closeTimeout:   DefaultCloseTimeout,
		maxMessageSize: DefaultMaxMessageSize,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.callID == nil {
		o.callID = counterIDs()
	}
	return o
}

// WithHeader adds h to the HTTP upgrade request, for example an Origin or an
// Authorization header. Default: no extra header. The Upgrade, Connection,
// Sec-WebSocket-* and Host headers are set by the dialer and must not be in h.
func WithHeader(h http.Header) Option {
	return func(o *options) { o.header = h.Clone() }
}

// WithDialTimeout bounds the whole of Dial: TCP connect, TLS and WebSocket
// handshakes, and the wait for the WELCOME. Default DefaultDialTimeout; zero
// or a negative d removes this bound (the context given to Dial still
// applies).
func WithDialTimeout(d time.Duration) Option {
	return func(o *options) { o.dialTimeout = d }
}

// WithWriteTimeout bounds each write to the socket. A write that times out
// leaves a partial frame behind, so it fails the connection. Default
// DefaultWriteTimeout; zero or a negative d disables it.
func WithWriteTimeout(d time.Duration) Option {
	return func(o *options) { o.writeTimeout = d }
}

// WithCloseTimeout sets how long Close waits for the server's close frame
// before closing the socket. Default DefaultCloseTimeout; zero or a negative
// d makes Close close the socket right after sending its close frame.
func WithCloseTimeout(d time.Duration) Option {
	return func(o *options) { o.closeTimeout = d }
}

// WithMaxMessageSize sets the largest message, all fragments together, the
// client accepts from the server; a larger one fails the connection with
// status 1009 and Err wraps ErrProtocol. Default DefaultMaxMessageSize; zero
// or a negative n removes the limit.
func WithMaxMessageSize(n int64) Option {
	return func(o *options) { o.maxMessageSize = n }
}

// WithLogger sets the logger for connection-level events: the end of the
// connection (info), replies and events nobody waits for and unexpected
// messages (debug). Default: nothing is logged. A nil l restores the default.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithCallIDs sets the generator of CALL ids. Every id must differ from the
// ids of the calls in flight on the client (Call fails with
// ErrDuplicateCallID otherwise); the server echoes it byte for byte
// (docs/protocol.md#call-ids). It is called from the goroutines that call Call,
// concurrently. Default: a per-client counter in base 36 ("1", "2", ... "a",
// ...). A nil f restores the default.
func WithCallIDs(f func() string) Option {
	return func(o *options) { o.callID = f }
}

// WithTLSConfig sets the TLS configuration for wss:// URLs. Default: the
// zero tls.Config, with ServerName taken from the URL.
func WithTLSConfig(c *tls.Config) Option {
	return func(o *options) { o.tlsConfig = c }
}

// counterIDs returns the default call ID generator: a counter, formatted in
// base 36, owned by one client.
func counterIDs() func() string {
	var n atomic.Uint64
	return func() string { return strconv.FormatUint(n.Add(1), 36) }
}
