package metrics

import (
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
// atomic adds; the router reads the clock for them only when its
// Observer is set (router.Observer says where). Safe for concurrent use.
type Histograms struct {
	calls   *prometheus.HistogramVec
	byOut   [router.OutcomeDeferred + 1]prometheus.Observer // calls, by outcome
	queue   prometheus.Histogram
	forward *prometheus.HistogramVec
}

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
	h := &Histograms{
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tagwamp_rpc_handler_seconds",
			Help:    "Time the RPC handler ran for a CALL or an /api/call, by how it returned (result, error, deferred).",
			Buckets: fastBuckets,
		}, []string{"outcome"}),
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
	for o := range h.byOut {
		h.byOut[o] = h.calls.WithLabelValues(router.CallOutcome(o).String())
	}
	return h
}

// Describe sends the histograms' descriptors.
func (h *Histograms) Describe(ch chan<- *prometheus.Desc) {
	h.calls.Describe(ch)
	h.queue.Describe(ch)
	h.forward.Describe(ch)
}

// Collect sends the histograms.
func (h *Histograms) Collect(ch chan<- prometheus.Metric) {
	h.calls.Collect(ch)
	h.queue.Collect(ch)
	h.forward.Collect(ch)
}

// Router returns the router.Observer that fills the RPC handler and queue
// delay histograms.
func (h *Histograms) Router() router.Observer { return routerObserver{h} }

// Forward returns the forward.Observer that fills the forwarded call
// histogram.
func (h *Histograms) Forward() forward.Observer { return forwardObserver{h} }

type routerObserver struct{ h *Histograms }

func (r routerObserver) ObserveCall(o router.CallOutcome, d time.Duration) {
	if int(o) < len(r.h.byOut) {
		r.h.byOut[o].Observe(d.Seconds())
	}
}

func (r routerObserver) ObserveQueueDelay(d time.Duration) { r.h.queue.Observe(d.Seconds()) }

type forwardObserver struct{ h *Histograms }

func (f forwardObserver) ObserveCall(route string, o forward.Outcome, d time.Duration) {
	f.h.forward.WithLabelValues(route, o.String()).Observe(d.Seconds())
}
