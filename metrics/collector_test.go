package metrics_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/metrics"
	"github.com/tagwamp/tagwamp/router"
)

type fixed router.Stats

func (f fixed) Stats() router.Stats { return router.Stats(f) }

func TestCollectorValues(t *testing.T) {
	src := fixed{Sessions: 3, Subscriptions: 7, TagSets: 27, Accepted: 10, Rejected: 1, MessagesIn: 100, Calls: 20,
		EventsOut: 500, SlowConsumers: 2, ProtocolErrors: 4, TooBig: 5, DroppedSubscribes: 6,
		DroppedPublishes: 8, SubscriptionsOverLimit: 9, RateLimited: 11, ConnsRefused: 12, URIsTooLong: 13,
		TopicsOverTagLimit: 14, MessagesOverLimit: 15, CallsBusy: 16, InputShed: 17, QueueShed: 18,
		StalledFrames: 19, PingTimeouts: 21, SilentConns: 24, HandshakesPerIPRefused: 25, RequestsTooLarge: 26,
		BufferedInput: 22, QueuedBytes: 23, Started: time.Unix(1700000000, 0)}
	want := `
# HELP tagwamp_sessions Open sessions.
# TYPE tagwamp_sessions gauge
tagwamp_sessions 3
# HELP tagwamp_subscriptions Live subscriptions in the tag index.
# TYPE tagwamp_subscriptions gauge
tagwamp_subscriptions 7
# HELP tagwamp_tag_sets Distinct tag sets among the subscriptions.
# TYPE tagwamp_tag_sets gauge
tagwamp_tag_sets 27
# HELP tagwamp_connections_accepted_total TCP connections accepted.
# TYPE tagwamp_connections_accepted_total counter
tagwamp_connections_accepted_total 10
# HELP tagwamp_connections_rejected_total Connections refused before or at the handshake.
# TYPE tagwamp_connections_rejected_total counter
tagwamp_connections_rejected_total 1
# HELP tagwamp_messages_in_total WAMP messages received.
# TYPE tagwamp_messages_in_total counter
tagwamp_messages_in_total 100
# HELP tagwamp_calls_total CALL messages received.
# TYPE tagwamp_calls_total counter
tagwamp_calls_total 20
# HELP tagwamp_events_out_total EVENT messages queued to receivers.
# TYPE tagwamp_events_out_total counter
tagwamp_events_out_total 500
# HELP tagwamp_slow_consumers_total Sessions closed for a full send queue or a write timeout.
# TYPE tagwamp_slow_consumers_total counter
tagwamp_slow_consumers_total 2
# HELP tagwamp_protocol_errors_total Sessions closed for bad input.
# TYPE tagwamp_protocol_errors_total counter
tagwamp_protocol_errors_total 4
# HELP tagwamp_messages_too_big_total Messages over the size limit.
# TYPE tagwamp_messages_too_big_total counter
tagwamp_messages_too_big_total 5
# HELP tagwamp_subscribes_dropped_total SUBSCRIBE messages denied or malformed.
# TYPE tagwamp_subscribes_dropped_total counter
tagwamp_subscribes_dropped_total 6
# HELP tagwamp_publishes_dropped_total PUBLISH messages denied or malformed.
# TYPE tagwamp_publishes_dropped_total counter
tagwamp_publishes_dropped_total 8
# HELP tagwamp_subscriptions_over_limit_total SUBSCRIBE messages dropped over the per-session subscription limit.
# TYPE tagwamp_subscriptions_over_limit_total counter
tagwamp_subscriptions_over_limit_total 9
# HELP tagwamp_rate_limited_total Sessions closed over the message or byte rate.
# TYPE tagwamp_rate_limited_total counter
tagwamp_rate_limited_total 11
# HELP tagwamp_connections_refused_total Upgrades refused with 503 over the connection limits.
# TYPE tagwamp_connections_refused_total counter
tagwamp_connections_refused_total 12
# HELP tagwamp_uris_too_long_total Procedure URIs, topics and PREFIX URIs over max_uri_length.
# TYPE tagwamp_uris_too_long_total counter
tagwamp_uris_too_long_total 13
# HELP tagwamp_topics_over_tag_limit_total Topics dropped over max_tags_per_topic.
# TYPE tagwamp_topics_over_tag_limit_total counter
tagwamp_topics_over_tag_limit_total 14
# HELP tagwamp_messages_over_limit_total Sessions closed for a message over max_message_elements or max_publish_ids.
# TYPE tagwamp_messages_over_limit_total counter
tagwamp_messages_over_limit_total 15
# HELP tagwamp_calls_busy_total CALLs refused over max_running_calls.
# TYPE tagwamp_calls_busy_total counter
tagwamp_calls_busy_total 16
# HELP tagwamp_input_shed_total Sessions closed over max_buffered_input.
# TYPE tagwamp_input_shed_total counter
tagwamp_input_shed_total 17
# HELP tagwamp_queue_shed_total Sessions closed to bring the queued total under max_queued_total.
# TYPE tagwamp_queue_shed_total counter
tagwamp_queue_shed_total 18
# HELP tagwamp_stalled_frames_total Sessions closed for an incomplete message stalled past frame_timeout.
# TYPE tagwamp_stalled_frames_total counter
tagwamp_stalled_frames_total 19
# HELP tagwamp_ping_timeouts_total Sessions closed for an unanswered ping.
# TYPE tagwamp_ping_timeouts_total counter
tagwamp_ping_timeouts_total 21
# HELP tagwamp_silent_connections_total Connections closed for sending nothing within handshake_first_byte_timeout.
# TYPE tagwamp_silent_connections_total counter
tagwamp_silent_connections_total 24
# HELP tagwamp_handshakes_per_ip_refused_total Connections closed at accept over max_handshakes_per_ip.
# TYPE tagwamp_handshakes_per_ip_refused_total counter
tagwamp_handshakes_per_ip_refused_total 25
# HELP tagwamp_requests_too_large_total Upgrade requests refused with 414 or 431.
# TYPE tagwamp_requests_too_large_total counter
tagwamp_requests_too_large_total 26
# HELP tagwamp_buffered_input_bytes Input held between reads by all sessions.
# TYPE tagwamp_buffered_input_bytes gauge
tagwamp_buffered_input_bytes 22
# HELP tagwamp_queued_bytes Bytes queued to all sessions and not yet written.
# TYPE tagwamp_queued_bytes gauge
tagwamp_queued_bytes 23
# HELP tagwamp_start_time_seconds When the server started, in Unix seconds.
# TYPE tagwamp_start_time_seconds gauge
tagwamp_start_time_seconds 1.7e+09
`
	if err := testutil.CollectAndCompare(metrics.NewCollector(src), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(metrics.NewCollector(fixed{})); n != reflect.TypeFor[router.Stats]().NumField() {
		t.Fatalf("%d metrics, want one per field of router.Stats (%d)", n, reflect.TypeFor[router.Stats]().NumField())
	}
}

func TestCollectorLinted(t *testing.T) {
	problems, err := testutil.CollectAndLint(metrics.NewCollector(fixed{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestCollectorLiveServer reads a real server with a real session.
func TestCollectorLiveServer(t *testing.T) {
	srv := router.New(router.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://"+ln.Addr().String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe("http://example.com/news?user=1", func(string, json.RawMessage) {}); err != nil {
		t.Fatal(err)
	}
	col := metrics.NewCollector(srv)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(col)
	for srv.Stats().Subscriptions != 1 {
		if ctx.Err() != nil {
			t.Fatal("subscription never counted")
		}
		time.Sleep(time.Millisecond)
	}
	want := "# HELP tagwamp_sessions Open sessions.\n# TYPE tagwamp_sessions gauge\ntagwamp_sessions 1\n" +
		"# HELP tagwamp_subscriptions Live subscriptions in the tag index.\n# TYPE tagwamp_subscriptions gauge\ntagwamp_subscriptions 1\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tagwamp_sessions", "tagwamp_subscriptions"); err != nil {
		t.Fatal(err)
	}
}

// TestHandler scrapes the handler over HTTP: the router's counters and
// the Go runtime's memory the bench harness reads.
func TestHandler(t *testing.T) {
	ts := httptest.NewServer(metrics.Handler(fixed{Sessions: 2}))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"\ntagwamp_sessions 2\n", "\ngo_memstats_heap_inuse_bytes ",
		"\ngo_memstats_stack_inuse_bytes ", "\nprocess_resident_memory_bytes "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
