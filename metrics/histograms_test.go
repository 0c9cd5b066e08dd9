package metrics_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/metrics"
	"github.com/tagwamp/tagwamp/router"
)

// TestHistograms: each observer fills its histogram, under bounded labels
// only: the call outcomes exist from the start, a route's series appear
// with its calls, and nothing else adds one.
func TestHistograms(t *testing.T) {
	h := metrics.NewHistograms()
	if n := testutil.CollectAndCount(h, "tagwamp_rpc_handler_seconds"); n != 3 {
		t.Fatalf("%d call series before any call, want 3 (one per outcome)", n)
	}
	r, f := h.Router(), h.Forward()
	for range 1000 {
		r.ObserveCall(router.OutcomeResult, time.Millisecond)
		r.ObserveQueueDelay(time.Second / 64) // 0.015625 s, exact in binary
		f.ObserveCall("app", forward.OutcomeOK, 2*time.Millisecond)
	}
	r.ObserveCall(router.OutcomeError, time.Second)
	r.ObserveCall(router.OutcomeDeferred, time.Microsecond)
	r.ObserveCall(router.CallOutcome(200), time.Microsecond) // not an outcome: dropped
	for _, o := range forward.Outcomes() {
		f.ObserveCall("app", o, time.Millisecond)
	}
	for name, want := range map[string]int{
		"tagwamp_rpc_handler_seconds":          3,
		"tagwamp_delivery_queue_delay_seconds": 1,
		"tagwamp_forward_call_seconds":         len(forward.Outcomes()),
	} {
		if n := testutil.CollectAndCount(h, name); n != want {
			t.Errorf("%s: %d series, want %d", name, n, want)
		}
	}
	const want = `
# HELP tagwamp_delivery_queue_delay_seconds Time frames waited in sessions' write queues until written, the oldest of each flush.
# TYPE tagwamp_delivery_queue_delay_seconds histogram
`
	if err := testutil.CollectAndCompare(h, strings.NewReader(want+queueSamples), "tagwamp_delivery_queue_delay_seconds"); err != nil {
		t.Error(err)
	}
}

// TestHistogramShards: calls observed through the router's observer and
// through its shards, from several goroutines at once, are one histogram
// per outcome on /metrics, added up exactly.
func TestHistogramShards(t *testing.T) {
	h := metrics.NewHistograms()
	r := h.Router()
	so, ok := r.(router.ShardedObserver)
	if !ok {
		t.Fatalf("the router observer is a %T, not a router.ShardedObserver", r)
	}
	obs := []router.Observer{r}
	for range 2*runtime.GOMAXPROCS(0) + 1 { // more workers than shards
		obs = append(obs, so.Shard())
	}
	var wg sync.WaitGroup
	for _, o := range obs {
		wg.Go(func() {
			for range 1000 {
				o.ObserveCall(router.OutcomeResult, time.Second/64)
			}
			o.ObserveCall(router.OutcomeError, 2*time.Second)
		})
	}
	wg.Wait()
	n := len(obs)
	var want strings.Builder
	want.WriteString("# HELP tagwamp_rpc_handler_seconds Time the RPC handler ran for a CALL or an /api/call, by how it returned (result, error, deferred).\n")
	want.WriteString("# TYPE tagwamp_rpc_handler_seconds histogram\n")
	les := []string{"5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
		"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
	for _, out := range []struct {
		name  string
		v     float64
		count int
	}{{"deferred", 0, 0}, {"error", 2, n}, {"result", 1.0 / 64, 1000 * n}} {
		for _, le := range les {
			c := 0
			if v, _ := strconv.ParseFloat(le, 64); le == "+Inf" || out.count > 0 && v >= out.v {
				c = out.count
			}
			fmt.Fprintf(&want, "tagwamp_rpc_handler_seconds_bucket{outcome=%q,le=%q} %d\n", out.name, le, c)
		}
		fmt.Fprintf(&want, "tagwamp_rpc_handler_seconds_sum{outcome=%q} %g\n", out.name, out.v*float64(out.count))
		fmt.Fprintf(&want, "tagwamp_rpc_handler_seconds_count{outcome=%q} %d\n", out.name, out.count)
	}
	if err := testutil.CollectAndCompare(h, strings.NewReader(want.String()), "tagwamp_rpc_handler_seconds"); err != nil {
		t.Error(err)
	}
}

// queueSamples are 1000 observations of 1/64 s in the queue delay
// buckets.
var queueSamples = func() string {
	var b strings.Builder
	for _, le := range []string{"5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
		"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"} {
		n := "1000"
		if v, _ := strconv.ParseFloat(le, 64); le != "+Inf" && v < 1.0/64 {
			n = "0"
		}
		b.WriteString(`tagwamp_delivery_queue_delay_seconds_bucket{le="` + le + `"} ` + n + "\n")
	}
	b.WriteString("tagwamp_delivery_queue_delay_seconds_sum 15.625\ntagwamp_delivery_queue_delay_seconds_count 1000\n")
	return b.String()
}()

// BenchmarkHistograms is the cost of one observation of each histogram,
// what the router and the forwarder pay per call and per flush when
// /metrics is served.
func BenchmarkHistograms(b *testing.B) {
	h := metrics.NewHistograms()
	r, f := h.Router(), h.Forward()
	b.Run("rpc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.ObserveCall(router.OutcomeResult, 3*time.Microsecond)
		}
	})
	// Calls observed on every CPU at once, each goroutine with a shard
	// of its own as the router's workers have, and all through the one
	// observer as before the shards.
	b.Run("rpc-parallel", func(b *testing.B) {
		so := r.(router.ShardedObserver)
		b.RunParallel(func(pb *testing.PB) {
			o := so.Shard()
			for pb.Next() {
				o.ObserveCall(router.OutcomeResult, 3*time.Microsecond)
			}
		})
	})
	b.Run("rpc-parallel-unsharded", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.ObserveCall(router.OutcomeResult, 3*time.Microsecond)
			}
		})
	})
	b.Run("queue", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.ObserveQueueDelay(30 * time.Microsecond)
		}
	})
	b.Run("forward", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f.ObserveCall("app", forward.OutcomeOK, time.Millisecond)
		}
	})
}

// TestCallHistogramMatchesPrometheus: the RPC handler histogram's own
// counts give what a prometheus.Histogram with the same buckets gives for
// the same observations: a duration on a bound counts in that bucket, one
// nanosecond more in the next, and the sum agrees.
func TestCallHistogramMatchesPrometheus(t *testing.T) {
	h := metrics.NewHistograms()
	ref := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "tagwamp_rpc_handler_seconds", Help: "reference",
		Buckets: []float64{.000005, .00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"outcome"})
	r := h.Router()
	shard := r.(router.ShardedObserver).Shard()
	rng := rand.New(rand.NewPCG(1, 2))
	var ds []time.Duration
	for _, us := range []int64{0, 5, 10, 25, 1000, 2500, 1e6, 1e7, 2e7} { // the bounds, and around them
		d := time.Duration(us) * time.Microsecond
		ds = append(ds, d, d+1, max(d-1, 0))
	}
	for range 2000 {
		ds = append(ds, time.Duration(rng.Int64N(int64(20*time.Second))), time.Duration(rng.Int64N(int64(time.Millisecond))))
	}
	for i, d := range ds {
		o := router.CallOutcome(i % 3)
		[]router.Observer{r, shard}[i%2].ObserveCall(o, d)
		ref.WithLabelValues(o.String()).Observe(d.Seconds())
	}
	gather := func(c prometheus.Collector) map[string]*dto.Histogram {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := make(map[string]*dto.Histogram)
		for _, mf := range mfs {
			if mf.GetName() != "tagwamp_rpc_handler_seconds" {
				continue
			}
			for _, m := range mf.GetMetric() {
				out[m.GetLabel()[0].GetValue()] = m.GetHistogram()
			}
		}
		return out
	}
	got, want := gather(h), gather(ref)
	if len(got) != 3 || len(want) != 3 {
		t.Fatalf("%d and %d outcomes, want 3", len(got), len(want))
	}
	for o, w := range want {
		g := got[o]
		if g.GetSampleCount() != w.GetSampleCount() {
			t.Errorf("%s: count %d, want %d", o, g.GetSampleCount(), w.GetSampleCount())
		}
		if diff := math.Abs(g.GetSampleSum() - w.GetSampleSum()); diff > 1e-9*w.GetSampleSum() {
			t.Errorf("%s: sum %v, want %v", o, g.GetSampleSum(), w.GetSampleSum())
		}
		for i, wb := range w.GetBucket() {
			gb := g.GetBucket()[i]
			if gb.GetUpperBound() != wb.GetUpperBound() || gb.GetCumulativeCount() != wb.GetCumulativeCount() {
				t.Errorf("%s: bucket le=%v: %d, want le=%v: %d", o, gb.GetUpperBound(), gb.GetCumulativeCount(),
					wb.GetUpperBound(), wb.GetCumulativeCount())
			}
		}
	}
}
