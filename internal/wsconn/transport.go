package wsconn

import (
	"bytes"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Defaults of Config.
const (
	// ReadBufferSize is the size of the read buffer a worker borrows for
	// one readiness event: frames up to about this size are parsed where
	// they were read.
	ReadBufferSize = 64 << 10
	// largeFrameStep is the least room given to a frame larger than
	// ReadBufferSize when its tail is first kept; it then grows by 4x as
	// its bytes arrive, never past the frame's length.
	largeFrameStep = 256 << 10
	// DefaultReadBudget bounds the bytes one worker reads from one
	// connection per readiness event, so a fast sender cannot monopolize a
	// worker.
	DefaultReadBudget = 256 << 10
)

// Config configures a Transport. MaxMessageSize and MaxQueueBytes must be
// set; the rest work at their zero value.
type Config struct {
	// MaxMessageSize is the largest message, fragments added up; a frame
	// header announcing more closes the connection with 1009 before its
	// payload is read.
	MaxMessageSize int
	// MaxQueueBytes bounds the bytes queued to one connection and not yet
	// written; past it the connection is a slow consumer (closed, 1008).
	MaxQueueBytes int
	// Workers bounds the pool goroutines that read connections and run
	// their handlers. Default 64 per GOMAXPROCS.
	Workers int
	// WriteTimeout bounds one blocking write of a flusher goroutine; a
	// peer that takes nothing for that long is closed as a slow consumer.
	// Default 10s.
	WriteTimeout time.Duration
	// MessageRate and ByteRate are token buckets per connection over the
	// frames and bytes it sends; a connection that empties one is closed
	// with 1008. A zero PerSecond turns a limit off.
	MessageRate, ByteRate RateLimit
	// MaxBufferedInput bounds the bytes all connections together hold of
	// their input between reads: frames that have not fully arrived and
	// fragments of a message being joined. A connection whose next step
	// would pass it is closed (1008) and counted in Stats.InputShed.
	// Zero: no bound.
	MaxBufferedInput int
	// MaxQueuedTotal bounds the bytes queued to all connections together
	// and not yet written. Past it, OnPressure is called (once until
	// Relieved): the owner of the connections should Shed the ones that
	// hold the most. Zero: no bound.
	MaxQueuedTotal int
	// OnPressure is called, on the goroutine that queued past
	// MaxQueuedTotal, when the total first passes it; it must not block.
	OnPressure func()
	// FrameTimeout bounds how long a connection may hold an incomplete
	// frame or message without sending more of it; Keepalive closes one
	// that stalls longer (1008), counted in Stats.StalledFrames. Zero:
	// no bound.
	FrameTimeout time.Duration
	// RefuseBinary, when set, is the reason with which a binary frame
	// closes its connection (1003) as soon as its header is read.
	// Default "": binary messages go to the handler.
	RefuseBinary string
	// MaxDetached bounds the workers detached from the pool at once
	// (Worker.Detach), so that the goroutines are at most Workers plus
	// MaxDetached. Default 4096.
	MaxDetached int
	// ObserveQueueDelay, when not nil, is told how long queued frames
	// waited before the write that took them to the socket was done: once
	// per flush of a Batch (from when its first connection was put on it
	// until its last writev ended: the oldest frame's wait, an upper bound
	// for the others) and once per write of a flusher goroutine (from when
	// it took the previous batch, or from its start for its first one).
	// It costs two clock reads per flush, none per frame. It runs on the
	// goroutine that flushed, with no lock held, and must be fast and
	// safe for concurrent use. Default nil: no clock is read.
	ObserveQueueDelay func(time.Duration)
	// DisableIOUring writes every connection of a flush list with its own
	// writev. Default false: on Linux a flush list of two connections or
	// more is written with one io_uring submission of sendmsg operations,
	// which cost less server CPU per delivery than the writevs
	// (bench/RESULTS.md, "io_uring"); where io_uring is unavailable (an
	// old kernel, the kernel.io_uring_disabled sysctl, seccomp) the
	// transport logs it once and writes with writev. The environment
	// variable TAGWAMP_IO_URING=on or off overrides it (the tests run both
	// paths with it).
	DisableIOUring bool
	// Poller chooses what waits for readiness: PollerDefault or
	// PollerEasygo (bench/RESULTS.md, "The easygo poller", has what each
	// costs). The environment variable TAGWAMP_POLLER=easygo or default
	// overrides it (the tests run both).
	Poller string
	// ReadBudget overrides DefaultReadBudget (tests lower it).
	ReadBudget int
	// Local makes the application's scratch of a new worker (Worker.Local),
	// or nil for none.
	Local func(*Worker) any
	// Logger receives the transport's logs: connections closed for bad
	// frames, rate limits and slow consumers. Default: discarded.
	Logger *slog.Logger
}

// RateLimit is a token bucket: Burst tokens, refilled at PerSecond tokens
// per second. A zero PerSecond is no limit.
type RateLimit struct {
	PerSecond int
	Burst     int
}

// Transport serves the connections it made: one poller, one worker pool,
// the buffer pools and the counters. Its methods are safe for concurrent
// use.
type Transport struct {
	cfg        Config
	log        *slog.Logger
	pool       *pool
	rates      rates
	readBudget int

	bufs     bufPool   // bufSize buffers: queued frames, short partial frames
	readBufs sync.Pool // *[ReadBufferSize]byte, borrowed by a worker per event
	flushers sync.Pool // *Batch, the helpers of split flushes
	rings    rings     // io_uring instances of the flushes (Config.DisableIOUring)
	tlsBufs  sync.Pool // *[tlsChunk]byte, borrowed by TLS flushes

	initOnce sync.Once
	initErr  error
	poller   watcher // the default *poller, or Config.Poller's

	stats counters
	// epoch is when the transport was made; clock reads the time since,
	// on the monotonic clock alone.
	epoch time.Time

	input  atomic.Int64 // bytes of input held between reads (MaxBufferedInput)
	queued atomic.Int64 // bytes queued to all connections (MaxQueuedTotal)
	// pressure is set from when the queued total passes MaxQueuedTotal
	// until the owner calls Relieved.
	pressure atomic.Bool
}

// Stats counts what the transport did to connections.
type Stats struct {
	TooBig        uint64 // closed for a message over MaxMessageSize (1009)
	BadFrames     uint64 // closed for a frame RFC 6455 forbids (1002, 1003, 1007)
	SlowConsumers uint64 // closed for a full queue or a write timeout
	RateLimited   uint64 // closed over MessageRate or ByteRate
	InputShed     uint64 // closed over MaxBufferedInput
	Shed          uint64 // closed by Shed, under MaxQueuedTotal pressure
	StalledFrames uint64 // closed for an incomplete message past FrameTimeout
	PingTimeouts  uint64 // closed for a ping unanswered past Keepalive's timeout
	// BufferedInput and Queued are the bytes held now: of input between
	// reads, and queued for writing.
	BufferedInput, Queued int64
}

type counters struct {
	tooBig, badFrames, slowConsumers, rateLimited atomic.Uint64
	inputShed, shed, stalled, pingTimeouts        atomic.Uint64
}

// New returns a transport configured by cfg. Its poller starts with the
// first connection.
func New(cfg Config) *Transport {
	if cfg.Workers <= 0 {
		cfg.Workers = 64 * runtime.GOMAXPROCS(0)
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.MaxDetached <= 0 {
		cfg.MaxDetached = 4096
	}
	if cfg.ReadBudget <= 0 {
		cfg.ReadBudget = DefaultReadBudget
	}
	switch os.Getenv("TAGWAMP_POLLER") {
	case "easygo":
		cfg.Poller = PollerEasygo
	case "default":
		cfg.Poller = PollerDefault
	}
	switch os.Getenv("TAGWAMP_IO_URING") {
	case "on":
		cfg.DisableIOUring = false
	case "off":
		cfg.DisableIOUring = true
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Transport{
		cfg:        cfg,
		log:        cfg.Logger,
		rates:      newRates(cfg.MessageRate, cfg.ByteRate),
		readBudget: cfg.ReadBudget,
		epoch:      time.Now(),
	}
	t.pool = newPool(cfg.Workers, cfg.MaxDetached, t.newWorker)
	t.tlsBufs.New = func() any { return new([tlsChunk]byte) }
	t.readBufs.New = func() any { return new([ReadBufferSize]byte) }
	return t
}

// clock returns the nanoseconds since the transport was made: one read of
// the monotonic clock (time.Since of a time that has a monotonic reading),
// cheaper than time.Now, which reads the wall clock too.
func (t *Transport) clock() int64 { return int64(time.Since(t.epoch)) }

func (t *Transport) init() error {
	t.initOnce.Do(func() {
		newWatcher := newPoller
		if t.cfg.Poller == PollerEasygo {
			newWatcher = newEasyPoller
		}
		t.poller, t.initErr = newWatcher(t.pool, func(err error) {
			t.log.Error("poller wait failed", "err", err)
		})
	})
	return t.initErr
}

// watcher waits for connections to become readable and hands them to the
// pool, one read notification per registration or rearm: the default
// poller (poller_linux.go, poller_other.go) or mailru/easygo's
// (Config.Poller PollerEasygo). The transport calls add after the
// handshake, rearm after each read, remove under Conn.mu before the
// socket closes, handoff when a reader may run long, and close once.
type watcher interface {
	add(c *Conn) error
	rearm(c *Conn) error
	remove(c *Conn) error
	handoff()
	close() error
}

// The pollers of Config.Poller.
const (
	// PollerDefault is the transport's own: on Linux an epoll loop read
	// through Go's runtime poller, whose goroutine reads the last ready
	// connection itself (docs/architecture.md). Any value but
	// PollerEasygo, "" included, chooses it.
	PollerDefault = "default"
	// PollerEasygo is mailru/easygo's epoll: a goroutine blocked in
	// epoll_wait that hands every ready connection to the pool. Linux
	// only (elsewhere the default).
	PollerEasygo = "easygo"
)

// Close stops the poller and lets go of the io_uring instances.
// Connections still open are no longer read.
func (t *Transport) Close() error {
	t.rings.close()
	if t.init() != nil || t.poller == nil {
		return nil
	}
	return t.poller.close()
}

// Stats returns a snapshot of the transport's counters.
func (t *Transport) Stats() Stats {
	c := &t.stats
	return Stats{
		TooBig:        c.tooBig.Load(),
		BadFrames:     c.badFrames.Load(),
		SlowConsumers: c.slowConsumers.Load(),
		RateLimited:   c.rateLimited.Load(),
		InputShed:     c.inputShed.Load(),
		Shed:          c.shed.Load(),
		StalledFrames: c.stalled.Load(),
		PingTimeouts:  c.pingTimeouts.Load(),
		BufferedInput: t.input.Load(),
		Queued:        t.queued.Load(),
	}
}

// Worker is the scratch of one pool goroutine, handed to every
// Handler.HandleMessage it runs. It belongs to that goroutine.
type Worker struct {
	// Batch collects the connections this worker queued frames to while it
	// serves one readiness event; the transport flushes it when the event
	// is done, and a handler may flush it earlier.
	Batch Batch
	// Local is the application's scratch, made by Config.Local.
	Local any

	buf []byte // the read buffer (ReadBufferSize), borrowed for one event
	hdr [ws.MaxHeaderSize - 2]byte
	br  bytes.Reader

	pool *pool // nil for a worker outside a pool (tests)
	held bool  // holds a place in the pool (Detach, Reattach)
	// lead is set while the worker is the poller's own goroutine reading
	// a connection (poller.loop), until it hands the waiting off.
	lead *poller
	// detached is set between Detach and Reattach; gaveUp when that
	// Detach gave a place in the pool up.
	detached, gaveUp bool

	// The read(2) in progress, for readFn (w.rawRead, bound once).
	rp     []byte
	rn     int
	rerr   error
	readFn func(uintptr) bool
}

func (t *Transport) newWorker() *Worker {
	w := new(Worker)
	w.readFn = w.rawRead
	if t.cfg.Local != nil {
		w.Local = t.cfg.Local(w)
	}
	return w
}

// Workers reports how many worker goroutines run now; idle ones exit after
// WorkerIdle.
func (t *Transport) Workers() int { return len(t.pool.sem) }

// Relieved tells the transport that its owner has shed what it meant to
// under MaxQueuedTotal pressure: OnPressure may be called again.
func (t *Transport) Relieved() { t.pressure.Store(false) }

// OverQueued reports how far the queued total is over MaxQueuedTotal, in
// bytes; zero or less when it is not.
func (t *Transport) OverQueued() int64 {
	if t.cfg.MaxQueuedTotal <= 0 {
		return 0
	}
	return t.queued.Load() - int64(t.cfg.MaxQueuedTotal)
}
