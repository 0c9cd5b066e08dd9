package cluster

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// Options configure NewNATS. The zero value is not enough: URLs is
// required.
type Options struct {
	// URLs are the NATS servers to connect to ("nats://host:4222"); the
	// client tries them in turn and reconnects to any. Required.
	URLs []string
	// SubjectPrefix starts every subject this node sends and listens on
	// (prefix.all and prefix.<tag hash>), so that several clusters can
	// share NATS servers. Default "tagwamp".
	SubjectPrefix string
	// Name is the connection name the NATS server shows (its monitoring
	// endpoints). Default "tagwamp".
	Name string
	// Credentials is a NATS credentials file (a JWT and an NKey seed),
	// UserInfo a user and password, Token a token: nats.go's
	// UserCredentials, UserInfo and Token options. Default none.
	Credentials string
	User        string
	Password    string
	Token       string
	// ReconnectWait is the first delay between reconnection attempts,
	// doubled after each failed one up to MaxReconnectWait; attempts
	// never stop. Defaults 100ms and 2s.
	ReconnectWait, MaxReconnectWait time.Duration
	// QueueLen is how many received messages wait for delivery; past it
	// nats.go drops them (a slow consumer, Stats.SlowConsumer).
	// Default 65536.
	QueueLen int
	// HeartbeatInterval is how often this node announces itself to the
	// others on prefix.nodes; a node silent for three intervals is no
	// longer known, so RemotePresence stops waiting for it. Default 5s.
	HeartbeatInterval time.Duration
	// PresenceTimeout bounds how long RemotePresence waits for the other
	// nodes' answers. Default 1s.
	PresenceTimeout time.Duration
	// MaxPresenceInFlight bounds the presence requests this node asks at
	// once; past it RemotePresence returns ErrBusy. Default 16.
	MaxPresenceInFlight int
	// Logger receives connection changes and rejected messages. Default
	// slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = "tagwamp"
	}
	if o.Name == "" {
		o.Name = "tagwamp"
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = 100 * time.Millisecond
	}
	if o.MaxReconnectWait <= 0 {
		o.MaxReconnectWait = 2 * time.Second
	}
	if o.QueueLen <= 0 {
		o.QueueLen = 1 << 16
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 5 * time.Second
	}
	if o.PresenceTimeout <= 0 {
		o.PresenceTimeout = time.Second
	}
	if o.MaxPresenceInFlight <= 0 {
		o.MaxPresenceInFlight = 16
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// NATS is a router.Broker over one NATS connection (see the package doc).
// Create it with NewNATS and give it to the server with Attach before
// the server serves; its methods are safe for concurrent use.
type NATS struct {
	opts Options
	log  *slog.Logger
	id   nodeID
	nc   *nats.Conn
	msgs chan *nats.Msg // every subscription's messages, in arrival order
	bufs sync.Pool      // *[]byte envelope scratch

	srv atomic.Pointer[router.Server]

	mu      sync.Mutex
	want    map[string]int // subject -> tags of local interest using it
	subjOf  map[tagindex.Tag]string
	dirty   chan struct{} // kicks reconcile
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
	closing bool

	subs map[string]*nats.Subscription // owned by reconcile's goroutine
	ctl  []*nats.Subscription          // prefix.nodes, prefix.presence

	peersMu  sync.Mutex
	peers    map[nodeID]time.Time // other nodes, when last heard
	inflight chan struct{}        // RemotePresence's places

	stats struct {
		forwarded, unforwarded, received, rejected, slowConsumer, subjects atomic.Uint64
		presenceRequests, presencePartial                                  atomic.Uint64
	}
}

// Stats counts what a NATS broker did.
type Stats struct {
	// Forwarded counts publications handed to NATS; Unforwarded those
	// that could not be (disconnected, or over the size bound): they
	// reached this node's subscribers only.
	Forwarded, Unforwarded uint64
	// Received counts messages from NATS; Rejected those dropped as
	// malformed or over a bound (ErrBadMessage).
	Received, Rejected uint64
	// SlowConsumer counts the times nats.go reported a subscription of
	// this node a slow consumer: the delivery queue (Options.QueueLen)
	// was full and messages were lost, until it drained.
	SlowConsumer uint64
	// Subjects is the number of subjects this node listens on now, once
	// the NATS server has acknowledged them.
	Subjects uint64
	// PresenceRequests counts the presence requests this node sent
	// (RemotePresence), PresencePartial those that a known node did not
	// answer in time.
	PresenceRequests, PresencePartial uint64
}

// NewNATS connects to o.URLs and returns the broker. It does not wait for
// a server: a node starts while NATS is down (Connected reports false,
// and router.Server.Ready with it) and connects when it can.
func NewNATS(o Options) (*NATS, error) {
	o = o.withDefaults()
	if len(o.URLs) == 0 {
		return nil, ErrNoURLs
	}
	b := &NATS{
		opts:   o,
		log:    o.Logger,
		msgs:   make(chan *nats.Msg, o.QueueLen),
		want:   make(map[string]int),
		subjOf: make(map[tagindex.Tag]string),
		dirty:  make(chan struct{}, 1),
		done:   make(chan struct{}),
		subs:   make(map[string]*nats.Subscription),
		peers:  make(map[nodeID]time.Time),
	}
	b.inflight = make(chan struct{}, o.MaxPresenceInFlight)
	rand.Read(b.id[:])
	b.bufs.New = func() any { return new([]byte) }
	nopts := []nats.Option{
		nats.Name(o.Name),
		nats.NoEcho(), // a node never receives its own publications
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.CustomReconnectDelay(func(attempts int) time.Duration {
			d := o.ReconnectWait << min(attempts, 16)
			return min(d, o.MaxReconnectWait)
		}),
		// While reconnecting, a publication fails at once rather than
		// waiting in a buffer to arrive late: it is counted instead.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("cluster: NATS disconnected", "err", err)
		}),
		nats.ConnectHandler(func(nc *nats.Conn) { b.announceOn(nc, nodeHello) }),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("cluster: NATS connected", "server", nc.ConnectedUrlRedacted())
			b.announceOn(nc, nodeHello)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.stats.slowConsumer.Add(1)
				return
			}
			b.log.Warn("cluster: NATS error", "err", err)
		}),
	}
	if o.Credentials != "" {
		nopts = append(nopts, nats.UserCredentials(o.Credentials))
	}
	if o.User != "" {
		nopts = append(nopts, nats.UserInfo(o.User, o.Password))
	}
	if o.Token != "" {
		nopts = append(nopts, nats.Token(o.Token))
	}
	nc, err := nats.Connect(joinURLs(o.URLs), nopts...)
	if err != nil {
		return nil, err
	}
	b.nc = nc
	if err := b.startControl(); err != nil {
		nc.Close()
		return nil, err
	}
	b.wg.Add(2)
	go b.receive()
	go b.reconcile()
	return b, nil
}

func joinURLs(urls []string) string {
	s := ""
	for i, u := range urls {
		if i > 0 {
			s += ","
		}
		s += u
	}
	return s
}

// Attach gives the broker the server it delivers to (router.Server's
// DeliverRemote). Call it once, before the server serves: messages that
// arrive before are dropped.
func (b *NATS) Attach(srv *router.Server) { b.srv.Store(srv) }

// Connected reports whether the NATS connection is up; router.Server.Ready
// reports ErrBrokerDisconnected while it is not.
func (b *NATS) Connected() bool { return b.nc.IsConnected() }

// Stats returns a snapshot of the broker's counters.
func (b *NATS) Stats() Stats {
	s := &b.stats
	return Stats{
		Forwarded: s.forwarded.Load(), Unforwarded: s.unforwarded.Load(),
		Received: s.received.Load(), Rejected: s.rejected.Load(), SlowConsumer: s.slowConsumer.Load(),
		Subjects: s.subjects.Load(), PresenceRequests: s.presenceRequests.Load(), PresencePartial: s.presencePartial.Load(),
	}
}

// Close closes the NATS connection and waits for the broker's goroutines.
// Publications after it are counted as unforwarded.
func (b *NATS) Close() {
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		return
	}
	b.closing = true
	b.mu.Unlock()
	b.announce(nodeBye)
	for _, s := range b.ctl {
		s.Unsubscribe()
	}
	close(b.done)
	b.wg.Wait()
	b.nc.FlushTimeout(time.Second) // the bye
	b.nc.Close()
}

// Interest records that the local subscriptions hold tag (on) or no
// longer do, and leaves the NATS subscription to reconcile's goroutine: it
// never blocks (router.Broker).
func (b *NATS) Interest(tag tagindex.Tag, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	subj, ok := b.subjOf[tag]
	if !ok {
		subj = tagSubject(b.opts.SubjectPrefix, tag)
	}
	if on {
		b.subjOf[tag] = subj
		b.want[subj]++
	} else {
		delete(b.subjOf, tag)
		if b.want[subj]--; b.want[subj] <= 0 {
			delete(b.want, subj)
		}
	}
	select {
	case b.dirty <- struct{}{}:
	default:
	}
}

// reconcile subscribes and unsubscribes so that this node listens on the
// subjects of its interest, each time Interest changed it. A NATS
// subscription survives reconnections: nats.go sends it again to the
// server it reconnects to.
func (b *NATS) reconcile() {
	defer b.wg.Done()
	for {
		select {
		case <-b.done:
			return
		case <-b.dirty:
		}
		b.mu.Lock()
		var add, del []string
		for subj := range b.want {
			if b.subs[subj] == nil {
				add = append(add, subj)
			}
		}
		for subj := range b.subs {
			if _, ok := b.want[subj]; !ok {
				del = append(del, subj)
			}
		}
		b.mu.Unlock()
		for _, subj := range add {
			// One channel for every subject: see the package doc, Order.
			sub, err := b.nc.ChanSubscribe(subj, b.msgs)
			if err != nil {
				b.log.Error("cluster: NATS subscribe failed", "subject", subj, "err", err)
				b.kick()
				continue
			}
			b.subs[subj] = sub
		}
		for _, subj := range del {
			if err := b.subs[subj].Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				b.log.Warn("cluster: NATS unsubscribe failed", "subject", subj, "err", err)
			}
			delete(b.subs, subj)
		}
		if len(add)+len(del) > 0 && b.nc.IsConnected() {
			// The server has the changes once it answers a ping.
			b.nc.FlushTimeout(time.Second)
		}
		b.stats.subjects.Store(uint64(len(b.subs)))
	}
}

// kick has reconcile run again.
func (b *NATS) kick() {
	select {
	case b.dirty <- struct{}{}:
	default:
	}
}

// Publish sends p on the subject of its routing tag (routeTag), or on
// prefix.all for the empty tag set. nats.go's Publish only appends to the
// connection's buffer, which its flusher goroutine writes: local delivery
// never waits for NATS. While disconnected p is counted, not sent.
func (b *NATS) Publish(p *router.BrokerPublication) {
	tag, ok := routeTag(p.Tags)
	if !ok {
		tag = router.AnyTag
	}
	subj := tagSubject(b.opts.SubjectPrefix, tag)
	bp := b.bufs.Get().(*[]byte)
	buf := appendEnvelope((*bp)[:0], b.id, p)
	var err error
	if len(buf) > maxWire {
		err = ErrBadMessage
	} else {
		err = b.nc.Publish(subj, buf)
	}
	if cap(buf) <= 64<<10 {
		*bp = buf
		b.bufs.Put(bp)
	}
	if err != nil {
		b.stats.unforwarded.Add(1)
		return
	}
	b.stats.forwarded.Add(1)
}

// receive delivers every message from NATS, one at a time and in arrival
// order, to the attached server.
func (b *NATS) receive() {
	defer b.wg.Done()
	var e envelope
	for {
		var m *nats.Msg
		select {
		case <-b.done:
			return
		case m = <-b.msgs:
		}
		b.stats.received.Add(1)
		if err := decodeEnvelope(m.Data, &e); err != nil {
			b.reject(m.Subject, err)
			continue
		}
		if e.origin == b.id {
			continue // NoEcho makes this a guard only
		}
		srv := b.srv.Load()
		if srv == nil {
			continue
		}
		if _, err := srv.DeliverRemote(&e.pub); err != nil {
			b.reject(m.Subject, err)
		}
		e = envelope{}
	}
}

func (b *NATS) reject(subject string, err error) {
	b.stats.rejected.Add(1)
	b.log.Debug("cluster: message rejected", "subject", subject, "err", err)
}
