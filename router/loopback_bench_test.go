package router_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tagwamp/tagwamp/router"
)

// BenchmarkLoopbackFanout publishes over a real loopback socket to
// subscribers on real sockets, read by goroutines of this same process (so
// the figure includes the readers' cost): one op is one publication
// delivered to every subscriber. cpu-ns/delivery is the CPU time of the
// whole process (server, publisher and readers) per delivery.
func BenchmarkLoopbackFanout(b *testing.B) {
	for _, subs := range []int{100, 1000} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			// The rate limits stay on, at a rate no benchmark reaches, so
			// that their cost is in the figure.
			srv, url := startServer(b, router.Options{
				MessageRate: router.RateLimit{PerSecond: 1 << 30},
				ByteRate:    router.RateLimit{PerSecond: 1 << 30},
			})
			clients := make([]*wsClient, subs)
			for i := range clients {
				clients[i] = dial(b, url)
				clients[i].send(`[5,"http://x.com/t?g=1"]`)
			}
			for srv.Stats().Subscriptions != int64(subs) {
				syncSession(b, clients[0])
			}
			pub := dial(b, url)
			msg := `[7,"http://x.com/t?g=1",{"title":"hello","n":12345}]`
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU()
			var wg sync.WaitGroup
			n := b.N
			for _, c := range clients {
				wg.Go(func() {
					for range n {
						if _, err := c.next(30e9); err != nil {
							b.Error(err)
							return
						}
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

// BenchmarkLoopbackRPC is one CALL in flight over a real loopback socket:
// ns/op is the round trip as this process's client sees it.
func BenchmarkLoopbackRPC(b *testing.B) {
	_, url := startServer(b, router.Options{RPC: testRPC()})
	c := dial(b, url)
	b.ReportAllocs()
	for b.Loop() {
		c.send(`[2,"c","http://example.com/null"]`)
		c.recv()
	}
}
