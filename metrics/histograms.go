package metrics

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/router"
)

// Histograms are tagwamp's latency histograms, a prometheus.Collector
// filled by the observers it hands out:
//
//	tagwamp_rpc_handler_seconds{outcome}          Router(): router.Options.Observer
//	tagwamp_delivery_queue_delay_seconds          Router()
//	tagwamp_forward_call_seconds{route, outcome}  Forward(): forward.Options.Observer
//
// Their labels are bounded: outcome takes the few values of
// router.CallOutcome and forward.Outcome, route the configured routes'
// names; never a URI, a topic or a session. An observation costs a few
// atomic adds (two for a call); the router reads the clock for them only when its
// Observer is set (router.Observer says where). Safe for concurrent use.
//
// The RPC handler histogram is kept in shards, one per CPU, that the
// router's workers share out (router.ShardedObserver) and that a scrape
// adds up: a call costs the same few adds, but two CPUs observing calls
// at once do not fight over the same memory (BenchmarkHistograms
// "rpc-parallel").
type Histograms struct {
	callsDesc *prometheus.Desc
	calls     []*callShard // [0]: the router's own observer; the rest: Shard's
	next      atomic.Uint32
	queue     prometheus.Histogram
	forward   *prometheus.HistogramVec
}

// callShard is one shard of the RPC handler histogram: counts per call
// outcome.
type callShard [router.OutcomeDeferred + 1]callCounts

// callCounts is one outcome's histogram in a shard, in integer
// nanoseconds: a count per bucket of fastBuckets (fastNanos) and one above
// them all, and the sum. An observation is two uncontended atomic adds
// where a prometheus.Histogram makes four, one of them a compare-and-swap
// loop on the float sum (BenchmarkHistograms "rpc-parallel").
type callCounts struct {
	buckets [len(fastNanos) + 1]atomic.Uint64
	sum     atomic.Int64 // nanoseconds
}

func (c *callCounts) observe(d time.Duration) {
	i := 0
	for i < len(fastNanos) && int64(d) > fastNanos[i] {
		i++
	}
	c.buckets[i].Add(1)
	c.sum.Add(int64(d))
}

// Buckets, in seconds. Handlers and queue delays run from microseconds (a
// built-in procedure, a frame written by the event that queued it) to
// seconds (a slow handler, a receiver whose socket is full, up to the
// write timeout); a forwarded call is an HTTP round trip, from a fraction
// of a millisecond to the route's timeout.
var (
	fastBuckets = [...]float64{.000005, .00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	fastNanos   = toNanos(fastBuckets)
	httpBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

// toNanos returns bounds in seconds as whole nanoseconds.
func toNanos(bounds [len(fastBuckets)]float64) (ns [len(fastBuckets)]int64) {
	for i, b := range bounds {
		ns[i] = int64(math.Round(b * 1e9))
	}
	return ns
}

// NewHistograms returns empty Histograms. The series of every call
// outcome exist from the start (at zero); a route's appear with its first
// call.
func NewHistograms() *Histograms {
	const callsName = "tagwamp_rpc_handler_seconds"
	const callsHelp = "Time the RPC handler ran for a CALL or an /api/call, by how it returned (result, error, deferred)."
	h := &Histograms{
		callsDesc: prometheus.NewDesc(callsName, callsHelp, []string{"outcome"}, nil),
		queue: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tagwamp_delivery_queue_delay_seconds",
			Help:    "Time frames waited in sessions' write queues until written, the oldest of each flush.",
			Buckets: fastBuckets[:],
		}),
		forward: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tagwamp_forward_call_seconds",
			Help:    "HTTP round trip of a forwarded CALL, by route and outcome (ok, error, timeout, unavailable, bad_answer, busy).",
			Buckets: httpBuckets,
		}, []string{"route", "outcome"}),
	}
	h.calls = make([]*callShard, 1+runtime.GOMAXPROCS(0))
	for i := range h.calls {
		h.calls[i] = new(callShard)
	}
	return h
}

// Describe sends the histograms' descriptors.
func (h *Histograms) Describe(ch chan<- *prometheus.Desc) {
	ch <- h.callsDesc
	h.queue.Describe(ch)
	h.forward.Describe(ch)
}

// Collect sends the histograms, the RPC handler's shards added up.
func (h *Histograms) Collect(ch chan<- prometheus.Metric) {
	for o := range router.OutcomeDeferred + 1 {
		m, err := h.sumCalls(o)
		if err != nil {
			m = prometheus.NewInvalidMetric(h.callsDesc, err)
		}
		ch <- m
	}
	h.queue.Collect(ch)
	h.forward.Collect(ch)
}

// sumCalls adds up the shards of the RPC handler histogram of outcome o.
// A shard observed meanwhile may be counted with or without the
// observation, as a scrape of one histogram may; the count is always the
// buckets' sum.
func (h *Histograms) sumCalls(o router.CallOutcome) (prometheus.Metric, error) {
	var (
		counts [len(fastNanos) + 1]uint64
		sum    int64
	)
	for _, s := range h.calls {
		c := &s[o]
		for i := range counts {
			counts[i] += c.buckets[i].Load()
		}
		sum += c.sum.Load()
	}
	buckets := make(map[float64]uint64, len(fastBuckets))
	var cum uint64
	for i, b := range fastBuckets {
		cum += counts[i]
		buckets[b] = cum
	}
	return prometheus.NewConstHistogram(h.callsDesc, cum+counts[len(fastNanos)],
		float64(sum)/1e9, buckets, o.String())
}

// Router returns the router.Observer that fills the RPC handler and queue
// delay histograms. It is a router.ShardedObserver.
func (h *Histograms) Router() router.Observer { return routerObserver{h, h.calls[0]} }

// Forward returns the forward.Observer that fills the forwarded call
// histogram.
func (h *Histograms) Forward() forward.Observer { return forwardObserver{h} }

type routerObserver struct {
	h     *Histograms
	calls *callShard
}

func (r routerObserver) ObserveCall(o router.CallOutcome, d time.Duration) {
	if int(o) < len(r.calls) {
		r.calls[o].observe(d)
	}
}

// Shard returns an observer of the next shard, round robin.
func (r routerObserver) Shard() router.Observer {
	n := uint32(len(r.h.calls) - 1)
	return routerObserver{r.h, r.h.calls[1+(r.h.next.Add(1)-1)%n]}
}

func (r routerObserver) ObserveQueueDelay(d time.Duration) { r.h.queue.Observe(d.Seconds()) }

type forwardObserver struct{ h *Histograms }

func (f forwardObserver) ObserveCall(route string, o forward.Outcome, d time.Duration) {
	f.h.forward.WithLabelValues(route, o.String()).Observe(d.Seconds())
}
