package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tagwamp/tagwamp/router"
)

// Source is what the Collector reads; *router.Server is one.
type Source interface {
	Stats() router.Stats
}

// metric is one exported series and how it is read from a snapshot.
type metric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(s *router.Stats) float64
}

// Collector is a prometheus.Collector over a Source.
type Collector struct {
	src     Source
	metrics []metric
}

// NewCollector returns a Collector of src's counters, named tagwamp_*.
func NewCollector(src Source) *Collector {
	g, c := prometheus.GaugeValue, prometheus.CounterValue
	m := func(name, help string, kind prometheus.ValueType, v func(s *router.Stats) float64) metric {
		return metric{prometheus.NewDesc("tagwamp_"+name, help, nil, nil), kind, v}
	}
	return &Collector{src: src, metrics: []metric{
		m("sessions", "Open sessions.", g, func(s *router.Stats) float64 { return float64(s.Sessions) }),
		m("subscriptions", "Live subscriptions in the tag index.", g, func(s *router.Stats) float64 { return float64(s.Subscriptions) }),
		m("connections_accepted_total", "TCP connections accepted.", c, func(s *router.Stats) float64 { return float64(s.Accepted) }),
		m("connections_rejected_total", "Connections refused before or at the handshake.", c, func(s *router.Stats) float64 { return float64(s.Rejected) }),
		m("messages_in_total", "WAMP messages received.", c, func(s *router.Stats) float64 { return float64(s.MessagesIn) }),
		m("calls_total", "CALL messages received.", c, func(s *router.Stats) float64 { return float64(s.Calls) }),
		m("events_out_total", "EVENT messages queued to receivers.", c, func(s *router.Stats) float64 { return float64(s.EventsOut) }),
		m("slow_consumers_total", "Sessions closed for a full send queue or a write timeout.", c, func(s *router.Stats) float64 { return float64(s.SlowConsumers) }),
		m("protocol_errors_total", "Sessions closed for bad input.", c, func(s *router.Stats) float64 { return float64(s.ProtocolErrors) }),
		m("messages_too_big_total", "Messages over the size limit.", c, func(s *router.Stats) float64 { return float64(s.TooBig) }),
		m("subscribes_dropped_total", "SUBSCRIBE messages denied or malformed.", c, func(s *router.Stats) float64 { return float64(s.DroppedSubscribes) }),
		m("publishes_dropped_total", "PUBLISH messages denied or malformed.", c, func(s *router.Stats) float64 { return float64(s.DroppedPublishes) }),
		m("start_time_seconds", "When the server started, in Unix seconds.", g, func(s *router.Stats) float64 {
			if s.Started.IsZero() {
				return 0
			}
			return float64(s.Started.UnixNano()) / 1e9
		}),
	}}
}

// Describe sends the descriptors of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

// Collect reads one snapshot and sends every metric from it.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
}

// Handler serves the Prometheus text exposition of src's counters
// (NewCollector), the Go runtime (go_*: go_memstats_heap_inuse_bytes,
// go_memstats_stack_inuse_bytes, go_goroutines...) and the process
// (process_*: resident memory, CPU seconds, descriptors), from a registry
// of its own: nothing is registered globally.
func Handler(src Source) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(src),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
