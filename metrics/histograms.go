package metrics

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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
// atomic adds; the router reads the clock for them only when its
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

// callShard is one shard of the RPC handler histogram: a histogram per
// call outcome.
type callShard [router.OutcomeDeferred + 1]prometheus.Histogram

// Buckets, in seconds. Handlers and queue delays run from microseconds (a
// built-in procedure, a frame written by the event that queued it) to
// seconds (a slow handler, a receiver whose socket is full, up to the
// write timeout); a forwarded call is an HTTP round trip, from a fraction
// of a millisecond to the route's timeout.
var (
	fastBuckets = []float64{.000005, .00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	httpBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

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
			Buckets: fastBuckets,
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
		for o := range h.calls[i] {
			h.calls[i][o] = prometheus.NewHistogram(prometheus.HistogramOpts{
				Name: callsName, Help: callsHelp, Buckets: fastBuckets,
			})
		}
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
// observation, as a scrape of one histogram may.
func (h *Histograms) sumCalls(o router.CallOutcome) (prometheus.Metric, error) {
	var (
		count   uint64
		sum     float64
		buckets = make(map[float64]uint64, len(fastBuckets))
		m       dto.Metric
	)
	for _, s := range h.calls {
		m.Reset()
		if err := s[o].Write(&m); err != nil {
			return nil, fmt.Errorf("metrics: reading the %s call histogram: %w", o, err)
		}
		hm := m.GetHistogram()
		count += hm.GetSampleCount()
		sum += hm.GetSampleSum()
		for _, b := range hm.GetBucket() {
			buckets[b.GetUpperBound()] += b.GetCumulativeCount()
		}
	}
	return prometheus.NewConstHistogram(h.callsDesc, count, sum, buckets, o.String())
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
		r.calls[o].Observe(d.Seconds())
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
