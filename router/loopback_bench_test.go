package router_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// BenchmarkLoopbackFanout publishes over a real loopback socket to
// subscribers on real sockets, read by goroutines of this same process (so
// the figure includes the readers' cost): one op is one publication
// delivered to every subscriber. cpu-ns/delivery is the CPU time of the
// whole process (server, publisher and readers) per delivery.
func BenchmarkLoopbackFanout(b *testing.B) {
	for _, bc := range []struct {
		subs     int
		observed bool
	}{{100, false}, {1000, false}, {100, true}, {1000, true}} {
		subs := bc.subs
		name := fmt.Sprintf("subs=%d", subs)
		if bc.observed {
			name += ",observed"
		}
		b.Run(name, func(b *testing.B) {
			clients, pub := loopbackSubscribers(b, subs, bc.observed)
			msg := `[7,"http://x.com/t?g=1",{"title":"hello","n":12345}]`
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			var wg sync.WaitGroup
			n := b.N
			for _, c := range clients {
				wg.Go(func() {
					c.Conn.SetReadDeadline(time.Now().Add(time.Minute))
					if err := skipFrames(c.Source(), n, nil); err != nil {
						b.Error(err)
					}
				})
			}
			for range n {
				pub.send(msg)
			}
			wg.Wait()
			b.ReportMetric(float64(n*subs)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(float64(processCPU()-cpu0)/float64(n*subs), "cpu-ns/delivery")
		})
	}
}

// BenchmarkLoopbackBurst is one publication in flight: each op publishes
// once and waits until every subscriber has it, so ns/op is the time from
// the PUBLISH to the last delivery (a burst), and every write carries one
// frame.
func BenchmarkLoopbackBurst(b *testing.B) {
	for _, subs := range []int{100, 1000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			clients, pub := loopbackSubscribers(b, subs, false)
			msg := `[7,"http://x.com/t?g=1",{"title":"hello","n":12345}]`
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			var got, readers sync.WaitGroup
			n := b.N
			for _, c := range clients {
				readers.Go(func() {
					c.Conn.SetReadDeadline(time.Now().Add(time.Minute))
					if err := skipFrames(c.Source(), n, got.Done); err != nil {
						b.Error(err)
					}
				})
			}
			for range n {
				got.Add(subs)
				pub.send(msg)
				done := make(chan struct{})
				go func() { got.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(time.Minute): // a failure guard: a reader failed
					b.Fatal("a publication did not reach every subscriber")
				}
			}
			readers.Wait()
			b.ReportMetric(float64(n*subs)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(float64(processCPU()-cpu0)/float64(n*subs), "cpu-ns/delivery")
		})
	}
}

// loopbackSubscribers starts a server and returns subs clients subscribed
// to http://x.com/t?g=1, their subscriptions in place, and a publisher.
// The rate limits stay on, at a rate no benchmark reaches, so that their
// cost is in the figures.
func loopbackSubscribers(b *testing.B, subs int, observed bool) (clients []*wsClient, pub *wsClient) {
	o := router.Options{
		MessageRate: router.RateLimit{PerSecond: 1 << 30},
		ByteRate:    router.RateLimit{PerSecond: 1 << 30},
	}
	if observed {
		o.Observer = new(benchObserver)
	}
	srv, url := startServer(b, o)
	clients = make([]*wsClient, subs)
	for i := range clients {
		clients[i] = dial(b, url)
		clients[i].send(`[5,"http://x.com/t?g=1"]`)
	}
	for srv.Stats().Subscriptions != int64(subs) {
		syncSession(b, clients[0])
	}
	return clients, dial(b, url)
}

// skipFrames reads n data frames from a server and drops them, parsing
// only their headers, so that the readers of a benchmark cost little next
// to the server they measure. each, if not nil, is called per data frame.
func skipFrames(r io.Reader, n int, each func()) error {
	buf := make([]byte, 16<<10)
	have, off := 0, 0
	for n > 0 {
		b := buf[off:have]
		hl := 2
		if len(b) >= 2 {
			switch b[1] & 0x7f {
			case 126:
				hl = 4
			case 127:
				hl = 10
			}
		}
		if len(b) >= hl {
			size := int(b[1] & 0x7f)
			switch hl {
			case 4:
				size = int(binary.BigEndian.Uint16(b[2:]))
			case 10:
				size = int(binary.BigEndian.Uint64(b[2:]))
			}
			if size > len(buf)-hl {
				return fmt.Errorf("frame of %d bytes", size)
			}
			if len(b) >= hl+size {
				if op := b[0] & 0x0f; op == 0x1 {
					n--
					if each != nil {
						each()
					}
				} else if op == 0x8 {
					return errors.New("closed by the server")
				}
				off += hl + size
				continue
			}
		}
		have = copy(buf, b)
		off = 0
		m, err := r.Read(buf[have:])
		if err != nil {
			return err
		}
		have += m
	}
	return nil
}

// BenchmarkLoopbackRPC is one CALL in flight over a real loopback socket:
// ns/op is the round trip as this process's client sees it, to a handler
// answered inline (router.InlineHandler) and to one that leaves the
// worker pool while it runs.
func BenchmarkLoopbackRPC(b *testing.B) {
	for _, bc := range []struct {
		name string
		rpc  router.RPCHandler
	}{
		{"handler=inline", router.Inline(testRPC())},
		{"handler=pooled", testRPC()},
	} {
		b.Run(bc.name, func(b *testing.B) { loopbackRPC(b, bc.rpc, nil) })
	}
}

// BenchmarkLoopbackRPCObserved is BenchmarkLoopbackRPC's inline case with
// a router.Observer set: the difference is what the RPC handler
// histogram's clock reads and calls cost per call.
func BenchmarkLoopbackRPCObserved(b *testing.B) {
	loopbackRPC(b, router.Inline(testRPC()), new(benchObserver))
}

// benchObserver is a router.Observer as cheap as a histogram's few atomic
// adds (package metrics's BenchmarkHistograms measures Prometheus's).
type benchObserver struct{ n, sum atomic.Int64 }

func (o *benchObserver) ObserveCall(_ router.CallOutcome, d time.Duration) {
	o.n.Add(1)
	o.sum.Add(int64(d))
}

func (o *benchObserver) ObserveQueueDelay(d time.Duration) { o.n.Add(1); o.sum.Add(int64(d)) }

func loopbackRPC(b *testing.B, rpc router.RPCHandler, obs router.Observer) {
	_, url := startServer(b, router.Options{
		RPC:         rpc,
		MessageRate: router.RateLimit{PerSecond: 1 << 30}, // the default would stop a fast box
		ByteRate:    router.RateLimit{PerSecond: 1 << 30},
		Observer:    obs,
	})
	c := dial(b, url)
	b.ReportAllocs()
	for b.Loop() {
		c.send(`[2,"c","http://example.com/null"]`)
		c.recv()
	}
}

// BenchmarkLoopbackRead measures the server's read path over a real
// loopback socket: each op writes a run of masked PUBLISH frames of one
// size (to a topic nobody holds, so dispatch is cheap) followed by a CALL,
// in one write where the socket takes it, and waits for the CALLRESULT.
// ns/msg and cpu-ns/msg are per PUBLISH; the server's share of the CPU is
// what changes with the read path (frames parsed in place, buffers, read
// calls per readiness event).
func BenchmarkLoopbackRead(b *testing.B) {
	for _, bc := range []struct {
		name       string
		size, msgs int
	}{
		{"size=64B/msgs=256", 64, 256},
		{"size=2KiB/msgs=64", 2 << 10, 64},
		{"size=16KiB/msgs=16", 16 << 10, 16},
		{"size=200KiB/msgs=4", 200 << 10, 4},
		{"size=900KiB/msgs=1", 900 << 10, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			_, url := startServer(b, router.Options{
				RPC:         testRPC(),
				MessageRate: router.RateLimit{PerSecond: 1 << 30},
				ByteRate:    router.RateLimit{PerSecond: 1 << 30},
			})
			c := dial(b, url)
			prefix := `[7,"http://x.com/nobody",{"p":"`
			pad := bc.size - len(prefix) - len(`"}]`)
			msg := prefix + strings.Repeat("x", max(pad, 0)) + `"}]`
			var run []byte
			for range bc.msgs {
				run = appendMasked(run, msg)
			}
			run = appendMasked(run, `[2,"c","http://example.com/null"]`)
			b.SetBytes(int64(len(run)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			for b.Loop() {
				if _, err := c.Conn.Write(run); err != nil {
					b.Fatal(err)
				}
				c.recv()
			}
			n := float64(b.N * bc.msgs)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/msg")
			b.ReportMetric(float64(processCPU()-cpu0)/n, "cpu-ns/msg")
		})
	}
}

// appendMasked appends msg as one masked client text frame.
func appendMasked(dst []byte, msg string) []byte {
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	n := len(msg)
	switch {
	case n < 126:
		dst = append(dst, 0x81, 0x80|byte(n))
	case n < 1<<16:
		dst = append(dst, 0x81, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x81, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, mask[:]...)
	for i := range n {
		dst = append(dst, msg[i]^mask[i%4])
	}
	return dst
}

// BenchmarkLoopbackCallUnderSlowHandlers is one CALL round trip of an
// unrelated session while 200 other sessions each have 3 calls pipelined
// to a handler that sleeps 2 s: the slow handlers must not hold the
// workers that read and answer everybody else. ns/op is the unrelated
// call's round trip.
func BenchmarkLoopbackCallUnderSlowHandlers(b *testing.B) {
	rpc := router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		if c.URI == "http://x.com/slow" {
			select {
			case <-time.After(2 * time.Second):
			case <-ctx.Done():
			}
		}
		return nil, nil
	})
	_, url := startServer(b, router.Options{
		RPC:         rpc,
		MessageRate: router.RateLimit{PerSecond: 1 << 30},
		ByteRate:    router.RateLimit{PerSecond: 1 << 30},
	})
	for i := range 200 {
		c := dial(b, url)
		for j := range 3 {
			c.send(fmt.Sprintf(`[2,"s%d.%d","http://x.com/slow"]`, i, j))
		}
	}
	time.Sleep(100 * time.Millisecond) // the slow calls start
	c := dial(b, url)
	b.ResetTimer()
	for b.Loop() {
		c.send(`[2,"f","http://x.com/fast"]`)
		c.recv()
	}
}
