package wsconn

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// nopHandler accepts every message and does nothing with it.
type nopHandler struct{}

func (nopHandler) HandleMessage(*Worker, ws.OpCode, []byte) bool { return true }
func (nopHandler) ConnClosing()                                  {}
func (nopHandler) ConnClosed()                                   {}

// BenchmarkReadFrames is the frame reader over one read of 64 masked
// frames of 38 bytes, handled by a handler that does nothing, with the rate
// limits off and on: the difference is what the limits cost per frame.
func BenchmarkReadFrames(b *testing.B) {
	for _, bc := range []struct {
		name      string
		msgs, byt RateLimit
	}{
		{"limits=off", RateLimit{}, RateLimit{}},
		{"limits=on", RateLimit{PerSecond: 1 << 30}, RateLimit{PerSecond: 1 << 30}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			t := New(Config{MaxMessageSize: 1 << 20, MaxQueueBytes: 1 << 20, MessageRate: bc.msgs, ByteRate: bc.byt})
			c := t.Attach(nil, nopHandler{})
			c.limit.start(&t.rates, time.Now().UnixNano())
			w := t.newWorker()
			const frames = 64
			var data []byte
			for range frames {
				data = append(data, clientFrame(ws.OpText, true, []byte(`[5,"http://example.com/news?lang=FR"]`))...)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				n := copy(w.buf, data)
				if t.rates.on() {
					c.limit.refill(&t.rates, time.Now().UnixNano())
				}
				if !c.charge(n) {
					b.Fatal("byte limit")
				}
				if done, _, ok := c.processFrames(w, w.buf[:n]); !ok || done != n {
					b.Fatal("frames not handled")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
		})
	}
}

// BenchmarkBatchFlush queues one shared frame to each of 100 connections
// through a Batch and flushes it (the write path of one publication, to
// connections that discard what they are written), with the queue delay
// observer off and on: the difference is its two clock reads and one
// call per flush.
func BenchmarkBatchFlush(b *testing.B) {
	for _, observed := range []bool{false, true} {
		name := "delay=off"
		cfg := Config{MaxMessageSize: 1 << 20, MaxQueueBytes: 1 << 20}
		var n atomic.Int64
		if observed {
			name, cfg.ObserveQueueDelay = "delay=on", func(time.Duration) { n.Add(1) }
		}
		b.Run(name, func(b *testing.B) {
			t := New(cfg)
			conns := make([]*Conn, 100)
			for i := range conns {
				conns[i] = t.Attach(discard{}, nopHandler{})
			}
			frame := AppendControl(nil, ws.OpText, []byte(`[8,"http://example.com/news",{"n":1}]`))
			var l Batch
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range conns {
					c.WriteShared(&l, frame)
				}
				l.Flush()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(conns)), "ns/frame")
		})
	}
}

// discard is a net.Conn that takes every write whole.
type discard struct{ net.Conn }

func (discard) Write(p []byte) (int, error)      { return len(p), nil }
func (discard) Close() error                     { return nil }
func (discard) SetWriteDeadline(time.Time) error { return nil }
