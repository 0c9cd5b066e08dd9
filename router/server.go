package router

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("router: server closed")

// Server is a WAMP v1 router over tag topics. Create it with New; its
// methods are safe for concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	rpc     RPCHandler
	inline  InlineHandler // rpc, when it can tell inline calls
	topics  TopicHandler
	filters []ConnFilter // the Options.Filters that are ConnFilters
	index   tagindex.Index[*subscription]
	t       *wsconn.Transport // the sessions' sockets, their reads and writes
	tcfg    wsconn.Config     // t's configuration
	fans    sync.Pool         // *fanout for server-side publishes
	stats   counters
	drains  []func(context.Context) error // the Extensions' Drains, for Shutdown
	// interest counts the tags local subscriptions hold, for Options.Broker.
	interest interest
	started  time.Time
	limits   connLimiter
	web      *web // Options.HTTP's server, or nil
	// What one message may cost (Options.MaxURILength, MaxTagsPerTopic,
	// MaxMessageElements, MaxPublishIDs), as the decoder and the tag
	// parser take them.
	plimits protocol.Limits
	tlimits tagindex.Limits

	// admission counts pending connections per address and hands out
	// the MaxHandshakes places; room holds the silent ones (admission.go).
	admission admission
	room      waitRoom
	head      headLimits // MaxRequestLine, MaxHeaderLine, MaxHandshakeBytes

	ctx    context.Context // canceled by Shutdown
	cancel context.CancelFunc

	sweepOnce sync.Once

	mu        sync.Mutex // guards listeners, pending, conns and shutdown
	listeners map[net.Listener]struct{}
	pending   map[net.Conn]struct{} // accepted, handshake not done
	conns     map[*Session]struct{}
	shutdown  bool
	drained   chan struct{} // closed when conns empties after shutdown
	sweeper   chan struct{} // closed to stop the ping sweeper
	handshake sync.WaitGroup
}

// New returns a server configured by o (see Options for the defaults).
func New(o Options) *Server {
	var drains []func(context.Context) error
	for _, e := range o.Extensions {
		if e.Drain != nil {
			drains = append(drains, e.Drain)
		}
	}
	o = o.withDefaults()
	srv := &Server{
		drains:    drains,
		opts:      o,
		log:       o.Logger,
		rpc:       o.RPC,
		topics:    topicsOf(o.Topics),
		started:   time.Now(),
		listeners: make(map[net.Listener]struct{}),
		pending:   make(map[net.Conn]struct{}),
		conns:     make(map[*Session]struct{}),
		drained:   make(chan struct{}),
		sweeper:   make(chan struct{}),
	}
	srv.ctx, srv.cancel = context.WithCancel(context.Background())
	srv.admission = admission{maxPerIP: o.MaxHandshakesPerIP, free: o.MaxHandshakes}
	srv.room.srv = srv
	srv.head = newHeadLimits(o)
	srv.limits = connLimiter{maxTotal: o.MaxConns, maxPerIP: o.MaxConnsPerIP}
	srv.plimits = protocol.Limits{MaxElements: o.MaxMessageElements, MaxIDs: o.MaxPublishIDs}
	srv.tlimits = tagindex.Limits{MaxTags: o.MaxTagsPerTopic, MaxLen: o.MaxURILength}
	srv.opts.TrustedProxies = normalizePrefixes(o.TrustedProxies)
	if o.TLSConfig != nil {
		srv.opts.TLSConfig = o.TLSConfig.Clone()
		if len(srv.opts.TLSConfig.NextProtos) == 0 {
			srv.opts.TLSConfig.NextProtos = []string{"http/1.1"}
		}
	}
	if srv.rpc == nil && len(o.RPCMiddleware) > 0 {
		srv.rpc = RPCHandlerFunc(noProcedure) // middleware may answer some
	}
	for i := len(o.RPCMiddleware) - 1; i >= 0; i-- {
		srv.rpc = o.RPCMiddleware[i](srv.rpc)
	}
	srv.inline, _ = srv.rpc.(InlineHandler)
	for _, f := range o.Filters {
		if cf, ok := f.(ConnFilter); ok {
			srv.filters = append(srv.filters, cf)
		}
	}
	srv.tcfg = wsconn.Config{
		MaxMessageSize:   o.MaxMessageSize,
		MaxQueueBytes:    o.MaxQueueBytes,
		Workers:          o.Workers,
		WriteTimeout:     o.WriteTimeout,
		DisableIOUring:   o.DisableIOUring,
		Poller:           o.Poller,
		MessageRate:      wsconn.RateLimit(o.MessageRate),
		ByteRate:         wsconn.RateLimit(o.ByteRate),
		RefuseBinary:     "binary frames are not supported: WAMP v1 is text",
		MaxDetached:      o.MaxRunningCalls,
		FrameTimeout:     max(o.FrameTimeout, 0),
		MaxBufferedInput: max(o.MaxBufferedInput, 0),
		MaxQueuedTotal:   max(o.MaxQueuedTotal, 0),
		OnPressure:       func() { go srv.relieve() },
		Local:            srv.newWorker,
		Logger:           o.Logger,
	}
	if o.Observer != nil {
		srv.tcfg.ObserveQueueDelay = o.Observer.ObserveQueueDelay
	}
	srv.t = wsconn.New(srv.tcfg)
	if o.HTTP != nil {
		srv.web = newWeb(srv)
	}
	srv.fans.New = func() any {
		f := new(fanout)
		f.init()
		return f
	}
	return srv
}

// startSweeper starts the sweeper (pings, stalled frames) with the first
// listener.
func (srv *Server) startSweeper() {
	srv.sweepOnce.Do(func() {
		if srv.sweepEvery() > 0 {
			go srv.sweep()
		}
	})
}

// sweepEvery is the sweeper's period: a quarter of the shortest of
// PingInterval and FrameTimeout that is on, or 0 when both are off.
func (srv *Server) sweepEvery() time.Duration {
	var d time.Duration
	for _, x := range []time.Duration{srv.opts.PingInterval, srv.opts.FrameTimeout} {
		if x > 0 && (d == 0 || x < d) {
			d = x
		}
	}
	if d == 0 {
		return 0
	}
	return max(d/4, 10*time.Millisecond)
}

// ListenAndServe listens on the TCP address addr and serves.
func (srv *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return srv.Serve(ln)
}

// ListenAndServeTLS listens on the TCP address addr and serves wss://, with
// the certificate chain and private key of the PEM files certFile and
// keyFile (the chain leaf first). Options.TLSConfig, when set, supplies the
// other settings; its certificates are replaced.
func (srv *Server) ListenAndServeTLS(addr, certFile, keyFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("router: loading the TLS certificate: %w", err)
	}
	cfg := srv.opts.TLSConfig
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	} else {
		cfg = cfg.Clone()
	}
	cfg.Certificates = []tls.Certificate{cert}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return srv.serve(ln, cfg)
}

// Serve accepts connections on ln until Shutdown, upgrading each to a WAMP
// session (over TLS when Options.TLSConfig is set). It accepts without
// waiting for anything, so ln's backlog keeps draining; a connection then
// waits without a goroutine for its first byte (HandshakeFirstByteTimeout)
// and for one of MaxHandshakes places (admission.go). It always returns a
// non-nil error; after Shutdown, ErrServerClosed. Serve closes ln.
func (srv *Server) Serve(ln net.Listener) error {
	return srv.serve(ln, srv.opts.TLSConfig)
}

// serve is Serve with the TLS configuration of ln's connections, nil for
// plain ones.
func (srv *Server) serve(ln net.Listener, tlsConfig *tls.Config) error {
	srv.mu.Lock()
	if srv.shutdown {
		srv.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	srv.listeners[ln] = struct{}{}
	srv.mu.Unlock()
	srv.startSweeper()
	defer func() {
		srv.mu.Lock()
		delete(srv.listeners, ln)
		srv.mu.Unlock()
		ln.Close()
	}()

	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if srv.isShutdown() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				// Out of descriptors or a transient failure: back off as
				// net/http does rather than spin.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				srv.log.Warn("accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("router: accept: %w", err)
		}
		delay = 0
		srv.stats.accepted.Add(1)
		pc := &pendingConn{nc: nc, tls: tlsConfig, accepted: time.Now()}
		if !srv.enter(pc) {
			srv.stats.rejected.Add(1)
			srv.stats.perIPRefused.Add(1)
			srv.log.Debug("connection refused: too many handshakes from its address", "remote", nc.RemoteAddr().String())
			nc.Close()
			continue
		}
		srv.mu.Lock()
		if srv.shutdown {
			srv.mu.Unlock()
			srv.leave(pc)
			nc.Close()
			return ErrServerClosed
		}
		srv.pending[nc] = struct{}{}
		srv.handshake.Add(1)
		srv.mu.Unlock()
		srv.room.add(pc)
	}
}

func (srv *Server) isShutdown() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.shutdown
}

// register moves a session, whose accepted connection was nc, from the
// pending set to the registry; false once the server shuts down.
func (srv *Server) register(s *Session, nc net.Conn) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	delete(srv.pending, nc)
	if srv.shutdown {
		return false
	}
	srv.conns[s] = struct{}{}
	srv.stats.sessions.Add(1)
	return true
}

// unregister removes a closed session and reports whether it was
// registered.
func (srv *Server) unregister(s *Session) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if _, ok := srv.conns[s]; !ok {
		return false
	}
	delete(srv.conns, s)
	srv.stats.sessions.Add(-1)
	if srv.shutdown && len(srv.conns) == 0 {
		close(srv.drained)
	}
	return true
}

// Shutdown stops accepting connections, runs the Extensions' Drains (see
// Extension.Drain: deferred calls in flight are answered while the
// sessions are open), closes every session with 1001 after the frames
// queued for it are written, and waits until all are closed or ctx is
// done; then it closes what is left at once and returns ctx's error.
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.mu.Lock()
	if srv.shutdown {
		srv.mu.Unlock()
		return ErrServerClosed
	}
	srv.shutdown = true
	for ln := range srv.listeners {
		ln.Close()
	}
	// The waiting room lets go of its sockets before they are closed.
	waiting := srv.room.close()
	for nc := range srv.pending {
		nc.Close() // a handshake in progress fails at once
	}
	conns := make([]*Session, 0, len(srv.conns))
	for s := range srv.conns {
		conns = append(conns, s)
	}
	if len(srv.conns) == 0 {
		close(srv.drained)
	}
	srv.mu.Unlock()
	close(srv.sweeper)

	for _, pc := range append(waiting, srv.drainQueue()...) {
		srv.dropPending(pc, "server shutting down")
	}
	srv.room.wait()
	srv.handshake.Wait()
	srv.drain(ctx)
	srv.mu.Lock() // sessions that a drain's hook or call closed are gone
	conns = conns[:0]
	for s := range srv.conns {
		conns = append(conns, s)
	}
	srv.mu.Unlock()
	for _, s := range conns {
		s.c.Close(ws.StatusGoingAway, "server shutting down")
	}
	var err error
	select {
	case <-srv.drained:
	case <-ctx.Done():
		err = ctx.Err()
		srv.mu.Lock()
		conns = conns[:0]
		for s := range srv.conns {
			conns = append(conns, s)
		}
		srv.mu.Unlock()
		for _, s := range conns {
			s.c.Abort()
		}
	}
	if srv.web != nil {
		srv.web.shutdown(ctx)
	}
	srv.cancel()
	srv.t.Close()
	return err
}

// drain runs the Extensions' Drains at once, for Shutdown, and waits for
// them; their context ends with ctx or, when it has a deadline, a tenth of
// the time left (at most a second) before it, which is left to write what
// they answered and close the sessions.
func (srv *Server) drain(ctx context.Context) {
	if len(srv.drains) == 0 {
		return
	}
	if d, ok := ctx.Deadline(); ok {
		margin := min(time.Until(d)/10, time.Second)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-margin))
		defer cancel()
	}
	var wg sync.WaitGroup
	for _, d := range srv.drains {
		wg.Go(func() {
			if err := d(ctx); err != nil {
				srv.log.Warn("shutdown: drain cut short", "err", err)
			}
		})
	}
	wg.Wait()
}

// Publish delivers event (raw JSON) to every subscription that topic's tag
// set selects, as a PUBLISH would with no options, and returns the number
// of receivers. It is for trusted in-process backends: topic handlers are
// not consulted. Before it returns it writes the EVENT to every receiver
// whose socket has room, one non-blocking writev each, on the caller's
// goroutine; it never waits for a slow receiver (a flusher goroutine
// finishes those).
func (srv *Server) Publish(topic string, event []byte) (int, error) {
	if !protocol.Valid(event) {
		return 0, errors.New("router: publish: event is not valid JSON")
	}
	f := srv.fans.Get().(*fanout)
	defer srv.fans.Put(f)
	if err := f.set.ParseTopicLimits(unsafe.Slice(unsafe.StringData(topic), len(topic)), srv.tlimits); err != nil {
		return 0, fmt.Errorf("router: publish: %w", err)
	}
	f.pub = Publication{Topic: topic, Tags: f.set, Event: event}
	n := srv.deliver(f, &f.pend, nil, nil)
	if srv.opts.Broker != nil {
		srv.forward(f, nil, nil)
	}
	f.pub = Publication{}
	f.pend.Flush()
	return n, nil
}

// sweep has the transport ping sessions that have been silent for
// PingInterval, close those that stay silent for PingTimeout more (dead
// peers) and those whose incomplete message stalls past FrameTimeout
// (wsconn.Conn.Keepalive). One ticker serves every session: a session
// holds no timer. The pings of a sweep are queued on one Batch and
// written every sweepFlushEvery sessions and at the end, with one
// non-blocking writev per session and no goroutine, and the Batch lets go
// of the queue arrays, so that a pinged session stays as small as an idle
// one.
func (srv *Server) sweep() {
	tick := time.NewTicker(srv.sweepEvery())
	defer tick.Stop()
	pings := wsconn.Batch{Release: true}
	for {
		select {
		case <-srv.sweeper:
			return
		case <-tick.C:
		}
		now := time.Now().UnixNano()
		srv.mu.Lock()
		// A copy, so that no lock is held while sessions are pinged or
		// closed; made anew each time, so that no idle session costs
		// the sweeper memory between sweeps.
		batch := make([]*Session, 0, len(srv.conns))
		for s := range srv.conns {
			batch = append(batch, s)
		}
		srv.mu.Unlock()
		for i, s := range batch {
			s.c.Keepalive(&pings, now, max(srv.opts.PingInterval, 0), srv.opts.PingTimeout)
			if i%sweepFlushEvery == sweepFlushEvery-1 {
				// A session on the Batch has its other frames (a
				// publication) wait for the flush: not for the
				// whole sweep.
				pings.Flush()
			}
		}
		pings.Flush()
	}
}

// sweepFlushEvery is how many sessions the sweeper checks between two
// flushes of its pings, so that a pinged session's other frames wait for
// a few hundred checks, never for the whole sweep.
const sweepFlushEvery = 256

// newSessionID returns 128 random bits, base64url encoded
// (docs/protocol.md#welcome).
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Stats is a snapshot of the server's counters.
type Stats struct {
	Sessions          int64  // open sessions
	Subscriptions     int64  // live subscriptions in the index
	TagSets           int64  // distinct tag sets among them
	Accepted          uint64 // TCP connections accepted
	Rejected          uint64 // connections refused before or at the handshake
	MessagesIn        uint64 // WAMP messages received
	Calls             uint64 // CALLs received
	EventsOut         uint64 // EVENTs queued to receivers
	SlowConsumers     uint64 // sessions closed for a full send queue or a write timeout
	ProtocolErrors    uint64 // sessions closed for bad input
	TooBig            uint64 // messages over MaxMessageSize
	DroppedSubscribes uint64 // SUBSCRIBEs denied or malformed
	DroppedPublishes  uint64 // PUBLISHes denied or malformed
	// SubscriptionsOverLimit counts SUBSCRIBEs dropped over
	// MaxSubscriptions (DroppedSubscribes counts them too).
	SubscriptionsOverLimit uint64
	// RateLimited counts sessions closed over MessageRate or ByteRate.
	RateLimited uint64
	// ConnsRefused counts upgrades refused with 503 over MaxConns or
	// MaxConnsPerIP (Rejected counts them too).
	ConnsRefused uint64
	// URIsTooLong counts procedure URIs, topics and PREFIX URIs over
	// Options.MaxURILength (docs/protocol.md#limits).
	URIsTooLong uint64
	// TopicsOverTagLimit counts SUBSCRIBEs, PUBLISHes and plain requests
	// dropped over Options.MaxTagsPerTopic or MaxURILength.
	TopicsOverTagLimit uint64
	// MessagesOverLimit counts sessions closed for a message over
	// Options.MaxMessageElements or MaxPublishIDs.
	MessagesOverLimit uint64
	// CallsBusy counts CALLs answered http://tagwamp.dev/error#busy over
	// Options.MaxRunningCalls.
	CallsBusy uint64
	// InputShed counts sessions closed over Options.MaxBufferedInput,
	// QueueShed those closed to bring the queued total back under
	// Options.MaxQueuedTotal, StalledFrames those whose incomplete message
	// stalled past Options.FrameTimeout, PingTimeouts those that left a
	// ping unanswered.
	InputShed, QueueShed, StalledFrames, PingTimeouts uint64
	// BufferedInput is the input sessions hold between reads now, and
	// QueuedBytes what is queued to them and not yet written, in bytes.
	BufferedInput, QueuedBytes int64
	// SilentConns counts connections closed for sending nothing within
	// HandshakeFirstByteTimeout; HandshakesPerIPRefused those closed at
	// accept over MaxHandshakesPerIP; RequestsTooLarge upgrade requests
	// refused with 414 or 431 over MaxRequestLine, MaxHeaderLine or
	// MaxHandshakeBytes. Rejected counts them too.
	SilentConns            uint64
	HandshakesPerIPRefused uint64
	RequestsTooLarge       uint64
	Started                time.Time
}

// counters are the router's own; the transport counts the rest
// (wsconn.Stats).
type counters struct {
	sessions, subscriptions               atomic.Int64
	accepted, rejected, messagesIn, calls atomic.Uint64
	eventsOut, protocolErrors             atomic.Uint64
	droppedSubscribes, droppedPublishes   atomic.Uint64
	subsOverLimit, connsRefused           atomic.Uint64
	urisTooLong, topicsOverTagLimit       atomic.Uint64
	messagesOverLimit, callsBusy          atomic.Uint64
	silentConns, perIPRefused             atomic.Uint64
	headTooLarge                          atomic.Uint64
}

// relieve sheds the sessions that hold the most queued bytes until the
// total, less what the sessions it shed still hold (they let it go as
// their sockets close), is under three quarters of MaxQueuedTotal
// (docs/protocol.md#limits); then the transport may call it again.
func (srv *Server) relieve() {
	defer srv.t.Relieved()
	quarter := int64(srv.opts.MaxQueuedTotal / 4)
	shed := make(map[*Session]bool)
	for {
		over := srv.t.OverQueued() + quarter
		for s := range shed {
			over -= int64(s.c.HeldBytes())
		}
		if over <= 0 {
			return
		}
		var largest *Session
		most := 0
		srv.mu.Lock()
		for s := range srv.conns {
			if n := s.c.HeldBytes(); n > most && !shed[s] {
				largest, most = s, n
			}
		}
		srv.mu.Unlock()
		if largest == nil {
			return
		}
		shed[largest] = true
		largest.c.Shed("slow consumer: the server's send buffers are full")
	}
}

// Stats returns a snapshot of the server's counters.
func (srv *Server) Stats() Stats {
	c := &srv.stats
	ts := srv.t.Stats()
	return Stats{
		Sessions:          c.sessions.Load(),
		Subscriptions:     c.subscriptions.Load(),
		TagSets:           int64(srv.index.Sets()),
		Accepted:          c.accepted.Load(),
		Rejected:          c.rejected.Load(),
		MessagesIn:        c.messagesIn.Load(),
		Calls:             c.calls.Load(),
		EventsOut:         c.eventsOut.Load(),
		SlowConsumers:     ts.SlowConsumers,
		ProtocolErrors:    c.protocolErrors.Load() + ts.BadFrames,
		TooBig:            ts.TooBig,
		DroppedSubscribes: c.droppedSubscribes.Load(),
		DroppedPublishes:  c.droppedPublishes.Load(),

		SubscriptionsOverLimit: c.subsOverLimit.Load(),
		RateLimited:            ts.RateLimited,
		ConnsRefused:           c.connsRefused.Load(),
		URIsTooLong:            c.urisTooLong.Load(),
		TopicsOverTagLimit:     c.topicsOverTagLimit.Load(),
		MessagesOverLimit:      c.messagesOverLimit.Load(),
		CallsBusy:              c.callsBusy.Load(),
		InputShed:              ts.InputShed,
		QueueShed:              ts.Shed,
		StalledFrames:          ts.StalledFrames,
		PingTimeouts:           ts.PingTimeouts,
		BufferedInput:          ts.BufferedInput,
		QueuedBytes:            ts.Queued,
		SilentConns:            c.silentConns.Load(),
		HandshakesPerIPRefused: c.perIPRefused.Load(),
		RequestsTooLarge:       c.headTooLarge.Load(),
		Started:                srv.started,
	}
}
