package metrics_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tagwamp/tagwamp/cluster"
	"github.com/tagwamp/tagwamp/metrics"
)

type fixedCluster struct {
	s     cluster.Stats
	up    bool
	nodes int
}

func (f fixedCluster) Stats() cluster.Stats { return f.s }
func (f fixedCluster) Connected() bool      { return f.up }
func (f fixedCluster) Nodes() int           { return f.nodes }

func TestClusterCollector(t *testing.T) {
	src := fixedCluster{s: cluster.Stats{Forwarded: 1, Unforwarded: 2, Received: 3, Rejected: 4, SlowConsumer: 5, Subjects: 6,
		PresenceRequests: 7, PresencePartial: 8}, up: true, nodes: 2}
	want := `
# HELP tagwamp_cluster_connected 1 while the broker is connected, else 0 (then publications reach local subscribers only).
# TYPE tagwamp_cluster_connected gauge
tagwamp_cluster_connected 1
# HELP tagwamp_cluster_forwarded_total Publications handed to the broker.
# TYPE tagwamp_cluster_forwarded_total counter
tagwamp_cluster_forwarded_total 1
# HELP tagwamp_cluster_unforwarded_total Publications that could not be forwarded (disconnected, or over the size bound): local only.
# TYPE tagwamp_cluster_unforwarded_total counter
tagwamp_cluster_unforwarded_total 2
# HELP tagwamp_cluster_received_total Messages received from the broker.
# TYPE tagwamp_cluster_received_total counter
tagwamp_cluster_received_total 3
# HELP tagwamp_cluster_rejected_total Messages from the broker dropped as malformed or over a bound.
# TYPE tagwamp_cluster_rejected_total counter
tagwamp_cluster_rejected_total 4
# HELP tagwamp_cluster_slow_consumer_total Times the delivery queue from the broker was full and messages were lost.
# TYPE tagwamp_cluster_slow_consumer_total counter
tagwamp_cluster_slow_consumer_total 5
# HELP tagwamp_cluster_subjects Broker subjects this node listens on.
# TYPE tagwamp_cluster_subjects gauge
tagwamp_cluster_subjects 6
# HELP tagwamp_cluster_presence_requests_total Presence requests this node sent to the other nodes.
# TYPE tagwamp_cluster_presence_requests_total counter
tagwamp_cluster_presence_requests_total 7
# HELP tagwamp_cluster_presence_partial_total Presence requests that a known node did not answer in time.
# TYPE tagwamp_cluster_presence_partial_total counter
tagwamp_cluster_presence_partial_total 8
# HELP tagwamp_cluster_nodes Other nodes this node knows (heard from within three heartbeats).
# TYPE tagwamp_cluster_nodes gauge
tagwamp_cluster_nodes 2
`
	if err := testutil.CollectAndCompare(metrics.NewClusterCollector(src), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	// Every field of cluster.Stats has its metric, and so do Connected and
	// Nodes.
	if n, want := testutil.CollectAndCount(metrics.NewClusterCollector(src)), reflect.TypeFor[cluster.Stats]().NumField()+2; n != want {
		t.Fatalf("%d metrics, want %d", n, want)
	}
}
