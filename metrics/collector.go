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

// metric is one exported series and how it is read from a snapshot S.
type metric[S any] struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(s *S) float64
}

// newMetric returns the metric tagwamp_<name>.
func newMetric[S any](name, help string, kind prometheus.ValueType, v func(s *S) float64) metric[S] {
	return metric[S]{prometheus.NewDesc("tagwamp_"+name, help, nil, nil), kind, v}
}

// snapshots is a prometheus.Collector of the metrics of one snapshot
// function: one call per scrape.
type snapshots[S any] struct {
	read    func() S
	metrics []metric[S]
}

// Describe sends the descriptors of every metric.
func (c *snapshots[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

// Collect reads one snapshot and sends every metric from it.
func (c *snapshots[S]) Collect(ch chan<- prometheus.Metric) {
	s := c.read()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
}

// Collector is a prometheus.Collector over a Source.
type Collector struct{ snapshots[router.Stats] }

// NewCollector returns a Collector of src's counters, named tagwamp_*.
func NewCollector(src Source) *Collector {
	g, c := prometheus.GaugeValue, prometheus.CounterValue
	m := newMetric[router.Stats]
	return &Collector{snapshots[router.Stats]{read: src.Stats, metrics: []metric[router.Stats]{
		m("sessions", "Open sessions.", g, func(s *router.Stats) float64 { return float64(s.Sessions) }),
		m("subscriptions", "Live subscriptions in the tag index.", g, func(s *router.Stats) float64 { return float64(s.Subscriptions) }),
		m("tag_sets", "Distinct tag sets among the subscriptions.", g, func(s *router.Stats) float64 { return float64(s.TagSets) }),
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
		m("subscriptions_over_limit_total", "SUBSCRIBE messages dropped over the per-session subscription limit.", c, func(s *router.Stats) float64 { return float64(s.SubscriptionsOverLimit) }),
		m("rate_limited_total", "Sessions closed over the message or byte rate.", c, func(s *router.Stats) float64 { return float64(s.RateLimited) }),
		m("connections_refused_total", "Upgrades refused with 503 over the connection limits.", c, func(s *router.Stats) float64 { return float64(s.ConnsRefused) }),
		m("uris_too_long_total", "Procedure URIs, topics and PREFIX URIs over max_uri_length.", c, func(s *router.Stats) float64 { return float64(s.URIsTooLong) }),
		m("topics_over_tag_limit_total", "Topics dropped over max_tags_per_topic.", c, func(s *router.Stats) float64 { return float64(s.TopicsOverTagLimit) }),
		m("messages_over_limit_total", "Sessions closed for a message over max_message_elements or max_publish_ids.", c, func(s *router.Stats) float64 { return float64(s.MessagesOverLimit) }),
		m("calls_busy_total", "CALLs refused over max_running_calls.", c, func(s *router.Stats) float64 { return float64(s.CallsBusy) }),
		m("input_shed_total", "Sessions closed over max_buffered_input.", c, func(s *router.Stats) float64 { return float64(s.InputShed) }),
		m("queue_shed_total", "Sessions closed to bring the queued total under max_queued_total.", c, func(s *router.Stats) float64 { return float64(s.QueueShed) }),
		m("stalled_frames_total", "Sessions closed for an incomplete message stalled past frame_timeout.", c, func(s *router.Stats) float64 { return float64(s.StalledFrames) }),
		m("ping_timeouts_total", "Sessions closed for an unanswered ping.", c, func(s *router.Stats) float64 { return float64(s.PingTimeouts) }),
		m("silent_connections_total", "Connections closed for sending nothing within handshake_first_byte_timeout.", c, func(s *router.Stats) float64 { return float64(s.SilentConns) }),
		m("handshakes_per_ip_refused_total", "Connections closed at accept over max_handshakes_per_ip.", c, func(s *router.Stats) float64 { return float64(s.HandshakesPerIPRefused) }),
		m("requests_too_large_total", "Upgrade requests refused with 414 or 431.", c, func(s *router.Stats) float64 { return float64(s.RequestsTooLarge) }),
		m("buffered_input_bytes", "Input held between reads by all sessions.", g, func(s *router.Stats) float64 { return float64(s.BufferedInput) }),
		m("queued_bytes", "Bytes queued to all sessions and not yet written.", g, func(s *router.Stats) float64 { return float64(s.QueuedBytes) }),
		m("start_time_seconds", "When the server started, in Unix seconds.", g, func(s *router.Stats) float64 {
			if s.Started.IsZero() {
				return 0
			}
			return float64(s.Started.UnixNano()) / 1e9
		}),
	}}}
}

// Handler serves the Prometheus text exposition of src's counters
// (NewCollector), the Go runtime (go_*: go_memstats_heap_inuse_bytes,
// go_memstats_stack_inuse_bytes, go_goroutines...) and the process
// (process_*: resident memory, CPU seconds, descriptors), from a registry
// of its own: nothing is registered globally. extra collectors join them:
// NewAuthCollector's, when the server authenticates.
func Handler(src Source, extra ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(src),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	reg.MustRegister(extra...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
