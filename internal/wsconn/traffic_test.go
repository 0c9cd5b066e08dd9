package wsconn

import (
	"io"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestAddBytes: the byte counters add and saturate at math.MaxUint32.
func TestAddBytes(t *testing.T) {
	for _, tt := range []struct {
		name      string
		from      uint32
		add, want uint64
	}{
		{"zero", 0, 0, 0},
		{"some", 10, 5, 15},
		{"negative ignored", 10, 0, 10},
		{"to the top", math.MaxUint32 - 5, 5, math.MaxUint32},
		{"past the top", math.MaxUint32 - 5, 100, math.MaxUint32},
		{"at the top", math.MaxUint32, 1, math.MaxUint32},
		{"one add over 4 GiB", 1, 1 << 40, math.MaxUint32},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a atomic.Uint32
			a.Store(tt.from)
			addBytes(&a, int(tt.add))
			if tt.name == "negative ignored" {
				addBytes(&a, -3)
			}
			if got := uint64(a.Load()); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// TestTrafficAndQueueDelay drives a connection over a real socket pair:
// the bytes read and written are counted exactly, and each flush of a
// Batch and each write of a flusher goroutine tells ObserveQueueDelay
// once, however many frames it wrote.
func TestTrafficAndQueueDelay(t *testing.T) {
	var observed atomic.Int64
	tr := New(Config{MaxMessageSize: 1 << 20, MaxQueueBytes: 1 << 20,
		ObserveQueueDelay: func(d time.Duration) {
			if d < 0 {
				t.Errorf("negative delay %v", d)
			}
			observed.Add(1)
		}})
	c, peer := socketPair(t, tr, &recorder{})
	w := tr.newWorker()

	in := append(clientFrame(ws.OpText, true, []byte("hello")), clientFrame(ws.OpText, true, make([]byte, 300))...)
	if _, err := peer.Write(in); err != nil {
		t.Fatal(err)
	}
	if !serve(c, w) { // reads, and flushes an empty Batch: nothing observed
		t.Fatal("closed")
	}
	if got := c.BytesRead(); got != uint64(len(in)) {
		t.Errorf("BytesRead %d, want %d", got, len(in))
	}
	if n := observed.Load(); n != 0 {
		t.Errorf("an empty flush was observed %d times", n)
	}

	// Three frames through a worker's Batch: one writev, one observation.
	frame := AppendControl(nil, ws.OpText, []byte("event"))
	wrote := 0
	for range 3 {
		if !c.WriteOn(&w.Batch, frame) {
			t.Fatal("write refused")
		}
		wrote += len(frame)
	}
	w.Batch.Flush()
	readN(t, peer, wrote)
	if n := observed.Load(); n != 1 {
		t.Errorf("a Batch flush observed %d times, want 1", n)
	}

	// One frame queued off the workers: a flusher goroutine writes it and
	// observes its write.
	if !c.Write(frame) {
		t.Fatal("write refused")
	}
	wrote += len(frame)
	readN(t, peer, len(frame))
	waitFor(t, func() bool { return observed.Load() == 2 && c.Idle() })
	if got := c.BytesWritten(); got != uint64(wrote) {
		t.Errorf("BytesWritten %d, want %d", got, wrote)
	}
}

// TestQueueDelayOff: without ObserveQueueDelay a Batch reads no clock.
func TestQueueDelayOff(t *testing.T) {
	tr := newTestTransport(1 << 20)
	c, peer := socketPair(t, tr, &recorder{})
	w := tr.newWorker()
	frame := AppendControl(nil, ws.OpText, []byte("event"))
	c.WriteOn(&w.Batch, frame)
	if w.Batch.timed != nil || w.Batch.since != 0 {
		t.Errorf("a Batch without an observer is timed: %+v", w.Batch.since)
	}
	w.Batch.Flush()
	readN(t, peer, len(frame))
}

// readN reads n bytes from r, within a generous deadline.
func readN(t *testing.T, r interface {
	io.Reader
	SetReadDeadline(time.Time) error
}, n int) {
	t.Helper()
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(r, make([]byte, n)); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
}

// waitFor waits until cond holds, failing the test after a generous
// deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
	}
}
