package lograte

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/leakcheck"
)

// TestMain fails the run when tests leave goroutines (summary timers)
// behind.
func TestMain(m *testing.M) {
	leakcheck.Main(m, leakcheck.Options{Wait: 2 * time.Second})
}

// clock is a settable time for the buckets.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a bytes.Buffer safe for the summary timers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newTest returns a Handler over a text handler at debug level, its output
// and its clock. Summaries come only from Flush unless interval is set.
func newTest(t *testing.T, o Options) (*Handler, *syncBuffer, *clock) {
	t.Helper()
	out := &syncBuffer{}
	c := &clock{t: time.Unix(1700000000, 0)}
	o.now = c.now
	if o.Interval == 0 {
		o.Interval = time.Hour
	}
	h := New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}), o)
	t.Cleanup(h.Flush) // stops the timers
	return h, out, c
}

func TestBuckets(t *testing.T) {
	type step struct {
		advance time.Duration
		msg     string
		n       int // lines logged
		want    int // lines that pass
	}
	tests := []struct {
		name  string
		opts  Options
		steps []step
	}{
		{"burst then drop", Options{PerSecond: 2, Burst: 3}, []step{{0, "a", 5, 3}}},
		{"refill at PerSecond", Options{PerSecond: 2, Burst: 3}, []step{
			{0, "a", 3, 3}, {0, "a", 1, 0}, {500 * time.Millisecond, "a", 2, 1}, {time.Second, "a", 3, 2}}},
		{"refill never past Burst", Options{PerSecond: 2, Burst: 3}, []step{{time.Hour, "a", 10, 3}}},
		{"one bucket per message", Options{PerSecond: 1, Burst: 2}, []step{
			{0, "a", 3, 2}, {0, "b", 3, 2}, {0, "a", 1, 0}}},
		{"default burst is ten times PerSecond", Options{PerSecond: 1}, []step{{0, "a", 15, 10}}},
		{"messages past MaxMessages share one bucket", Options{PerSecond: 1, Burst: 2, MaxMessages: 1}, []step{
			{0, "a", 1, 1}, {0, "b", 1, 1}, {0, "c", 2, 1}, {0, "a", 1, 1}}},
		{"full buckets are forgotten for new messages", Options{PerSecond: 1, Burst: 1, MaxMessages: 1}, []step{
			{0, "a", 1, 1}, {time.Second, "b", 1, 1}, {0, "c", 1, 1}, {0, "d", 1, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, out, c := newTest(t, tt.opts)
			log := slog.New(h)
			lines := 0
			for i, s := range tt.steps {
				c.add(s.advance)
				for range s.n {
					log.Info(s.msg)
				}
				got := strings.Count(out.String(), "\n") - lines
				lines += got
				if got != s.want {
					t.Fatalf("step %d: %d of %d %q lines passed, want %d\n%s", i, got, s.n, s.msg, s.want, out)
				}
			}
		})
	}
}

func TestSummary(t *testing.T) {
	h, out, _ := newTest(t, Options{PerSecond: 1, Burst: 1})
	log := slog.New(h)
	for range 5 {
		log.Info("connection refused", "client", "192.0.2.1")
	}
	log.Debug("quiet", "n", 1)
	log.Debug("quiet", "n", 2)
	log.Error("connection refused")
	if h.Dropped() != 6 {
		t.Errorf("Dropped = %d, want 6", h.Dropped())
	}
	if strings.Contains(out.String(), "dropped") {
		t.Fatalf("summary before its interval:\n%s", out)
	}
	h.Flush()
	got := out.String()
	for _, want := range []string{
		`level=WARN msg="dropped 1 log lines like: quiet" dropped=1`,
		`level=ERROR msg="dropped 5 log lines like: connection refused" dropped=5`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	h.Flush()
	if n := strings.Count(out.String(), `msg="dropped`); n != 2 {
		t.Errorf("a second Flush wrote summaries again:\n%s", out)
	}
}

// TestSummaryTimer waits for the summary the timer writes, through the
// handler (and so the attributes) that dropped the last line.
func TestSummaryTimer(t *testing.T) {
	h, out, _ := newTest(t, Options{PerSecond: 1, Burst: 1, Interval: 10 * time.Millisecond})
	log := slog.New(h).With("component", "api")
	for range 3 {
		log.Info("request refused")
	}
	want := `level=WARN msg="dropped 2 log lines like: request refused" component=api dropped=2`
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no summary %q after 5s:\n%s", want, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDerivedHandlersShareBuckets(t *testing.T) {
	h, out, _ := newTest(t, Options{PerSecond: 1, Burst: 2})
	slog.New(h).With("a", 1).Info("m")
	slog.New(h).WithGroup("g").Info("m", "b", 2)
	slog.New(h).Info("m")
	got := out.String()
	if strings.Count(got, "\n") != 2 || !strings.Contains(got, "a=1") || !strings.Contains(got, "g.b=2") {
		t.Errorf("output:\n%s", got)
	}
	if !h.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("Enabled(debug) = false over a debug handler")
	}
}

// TestConcurrent logs from many goroutines (run it with -race): every line
// either passes or is counted, and one summary accounts for the others.
func TestConcurrent(t *testing.T) {
	h, out, _ := newTest(t, Options{PerSecond: 1, Burst: 50})
	log := slog.New(h)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				log.Info("flood", "g", g, "i", i)
			}
		}()
	}
	wg.Wait()
	h.Flush()
	got := out.String()
	if passed := strings.Count(got, `msg=flood`); passed != 50 {
		t.Errorf("%d lines passed, want 50", passed)
	}
	if want := fmt.Sprintf("dropped %d log lines like: flood", 800-50); !strings.Contains(got, want) || h.Dropped() != 750 {
		t.Errorf("Dropped = %d; output lacks %q", h.Dropped(), want)
	}
}
