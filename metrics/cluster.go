package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagwamp/tagwamp/cluster"
)

// ClusterSource is what the ClusterCollector reads; *cluster.NATS is one.
type ClusterSource interface {
	Stats() cluster.Stats
	Connected() bool
	Nodes() int
}

// ClusterCollector is a prometheus.Collector over a ClusterSource: what a
// node of a cluster sent to and received from the broker.
type ClusterCollector struct{ snapshots[clusterSnapshot] }

// clusterSnapshot is one reading of a ClusterSource.
type clusterSnapshot struct {
	cluster.Stats
	connected bool
	nodes     int
}

// NewClusterCollector returns a ClusterCollector of src's counters, named
// tagwamp_cluster_*.
func NewClusterCollector(src ClusterSource) *ClusterCollector {
	m, c, g := newMetric[clusterSnapshot], prometheus.CounterValue, prometheus.GaugeValue
	read := func() clusterSnapshot { return clusterSnapshot{src.Stats(), src.Connected(), src.Nodes()} }
	return &ClusterCollector{snapshots[clusterSnapshot]{read: read, metrics: []metric[clusterSnapshot]{
		m("cluster_connected", "1 while the broker is connected, else 0 (then publications reach local subscribers only).", g, func(s *clusterSnapshot) float64 {
			if s.connected {
				return 1
			}
			return 0
		}),
		m("cluster_forwarded_total", "Publications handed to the broker.", c, func(s *clusterSnapshot) float64 { return float64(s.Forwarded) }),
		m("cluster_unforwarded_total", "Publications that could not be forwarded (disconnected, or over the size bound): local only.", c, func(s *clusterSnapshot) float64 { return float64(s.Unforwarded) }),
		m("cluster_received_total", "Messages received from the broker.", c, func(s *clusterSnapshot) float64 { return float64(s.Received) }),
		m("cluster_rejected_total", "Messages from the broker dropped as malformed or over a bound.", c, func(s *clusterSnapshot) float64 { return float64(s.Rejected) }),
		m("cluster_slow_consumer_total", "Times the delivery queue from the broker was full and messages were lost.", c, func(s *clusterSnapshot) float64 { return float64(s.SlowConsumer) }),
		m("cluster_subjects", "Broker subjects this node listens on.", g, func(s *clusterSnapshot) float64 { return float64(s.Subjects) }),
		m("cluster_presence_requests_total", "Presence requests this node sent to the other nodes.", c, func(s *clusterSnapshot) float64 { return float64(s.PresenceRequests) }),
		m("cluster_presence_partial_total", "Presence requests that a known node did not answer in time.", c, func(s *clusterSnapshot) float64 { return float64(s.PresencePartial) }),
		m("cluster_nodes", "Other nodes this node knows (heard from within three heartbeats).", g, func(s *clusterSnapshot) float64 { return float64(s.nodes) }),
	}}}
}

// Sources are the counters a server exposes: the router's always, auth's
// and the cluster's when those are on (nil otherwise), and the latency
// histograms when the server observes them (nil otherwise).
type Sources struct {
	Router     Source
	Auth       AuthSource
	Cluster    ClusterSource
	Histograms *Histograms
}

// HandlerFor is Handler with the collectors of every source that is set.
func HandlerFor(s Sources) http.Handler {
	var extra []prometheus.Collector
	if s.Histograms != nil {
		extra = append(extra, s.Histograms)
	}
	if s.Auth != nil {
		extra = append(extra, NewAuthCollector(s.Auth))
	}
	if s.Cluster != nil {
		extra = append(extra, NewClusterCollector(s.Cluster))
	}
	return Handler(s.Router, extra...)
}
