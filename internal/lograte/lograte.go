package lograte

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune a Handler; the zero value works.
type Options struct {
	// PerSecond is the refill rate of each message's bucket, in lines a
	// second. Default 10.
	PerSecond float64
	// Burst is the size of each bucket: lines one message may log at
	// once. Default 10 times PerSecond.
	Burst int
	// Interval is the least time between two summaries of one message.
	// Default 1s.
	Interval time.Duration
	// MaxMessages bounds the buckets kept; messages past it share one
	// more. Buckets that are full again and owe no summary are forgotten
	// to make room.
	// Default 1024.
	MaxMessages int

	now func() time.Time // tests
}

func (o Options) withDefaults() Options {
	if o.PerSecond <= 0 {
		o.PerSecond = 10
	}
	if o.Burst <= 0 {
		o.Burst = max(1, int(10*o.PerSecond))
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.MaxMessages <= 0 {
		o.MaxMessages = 1024
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}

// Handler is a slog.Handler that passes at most Options.PerSecond records a
// second per message text to the next handler (see the package doc).
type Handler struct {
	next slog.Handler
	l    *limiter
}

// New returns a Handler that rate-limits the records it passes to next.
func New(next slog.Handler, o Options) *Handler {
	o = o.withDefaults()
	return &Handler{next: next, l: &limiter{o: o, buckets: make(map[string]*bucket)}}
}

// limiter holds the buckets a Handler and its derived handlers share.
type limiter struct {
	o       Options
	dropped atomic.Uint64

	mu      sync.Mutex // guards buckets and every bucket's fields
	buckets map[string]*bucket
}

// bucket is one message's token bucket and what it dropped since its last
// summary.
type bucket struct {
	tokens float64
	last   time.Time
	// Since the last summary: lines dropped, their highest level, one of
	// their messages (the shared bucket's may differ), the handler that
	// dropped the last one, and the timer that will write the summary.
	dropped uint64
	level   slog.Level
	msg     string
	h       slog.Handler
	timer   *time.Timer
}

// overflow is the key of the bucket messages past MaxMessages share.
const overflow = ""

// Enabled reports whether the next handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes r to the next handler if its message's bucket has a token,
// and otherwise drops and counts it.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	l := h.l
	l.mu.Lock()
	now := l.o.now()
	key := r.Message
	b := l.bucket(key, now)
	if b.tokens >= 1 {
		b.tokens--
		l.mu.Unlock()
		return h.next.Handle(ctx, r)
	}
	if b.dropped == 0 || r.Level > b.level {
		b.level = r.Level
	}
	b.dropped++
	b.msg, b.h = r.Message, h.next
	if b.timer == nil {
		b.timer = time.AfterFunc(l.o.Interval, func() { l.summarize(b) })
	}
	l.mu.Unlock()
	l.dropped.Add(1)
	return nil
}

// WithAttrs returns a Handler over next.WithAttrs(attrs), sharing h's
// buckets.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs), l: h.l}
}

// WithGroup returns a Handler over next.WithGroup(name), sharing h's
// buckets.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), l: h.l}
}

// Dropped returns how many records h and the handlers derived from it have
// dropped in all.
func (h *Handler) Dropped() uint64 { return h.l.dropped.Load() }

// Flush writes the summaries of every message that dropped lines since its
// last one, now, and stops their timers.
func (h *Handler) Flush() {
	l := h.l
	l.mu.Lock()
	var pending []*bucket
	for _, b := range l.buckets {
		if b.timer != nil && b.timer.Stop() {
			pending = append(pending, b)
		}
	}
	l.mu.Unlock()
	for _, b := range pending {
		l.summarize(b)
	}
}

// bucket returns key's bucket, refilled up to now, making it (full) if
// there is room, else the shared one. The caller holds l.mu.
func (l *limiter) bucket(key string, now time.Time) *bucket {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.o.MaxMessages {
			l.sweep(now)
		}
		if len(l.buckets) >= l.o.MaxMessages {
			key = overflow
			b = l.buckets[key]
		}
		if b == nil {
			b = &bucket{tokens: float64(l.o.Burst), last: now}
			l.buckets[key] = b
		}
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(l.o.Burst), b.tokens+elapsed.Seconds()*l.o.PerSecond)
		b.last = now
	}
	return b
}

// sweep forgets the buckets that are full again and owe no summary: they
// are as good as new. The caller holds l.mu.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		full := b.tokens+now.Sub(b.last).Seconds()*l.o.PerSecond >= float64(l.o.Burst)
		if full && b.timer == nil && b.dropped == 0 {
			delete(l.buckets, k)
		}
	}
}

// summarize writes b's summary, if it dropped anything, through the
// handler that dropped its last line.
func (l *limiter) summarize(b *bucket) {
	l.mu.Lock()
	n, level, msg, next := b.dropped, max(b.level, slog.LevelWarn), b.msg, b.h
	b.dropped, b.h, b.timer = 0, nil, nil
	now := l.o.now()
	l.mu.Unlock()
	if n == 0 {
		return
	}
	r := slog.NewRecord(now, level, fmt.Sprintf("dropped %d log lines like: %s", n, msg), 0)
	r.AddAttrs(slog.Uint64("dropped", n))
	next.Handle(context.Background(), r)
}
