package cluster_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/cluster"
	"github.com/tagwamp/tagwamp/internal/wstest"
)

// TestBrokerTraffic measures what a subscribe, an unsubscribe and a
// publication cost in broker traffic: every byte between a node and NATS
// crosses a counting proxy (wireProxy), parsed into NATS operations. It
// asserts the operations' counts (the bytes depend on the subjects and
// nats.go's subscription ids) and logs the figures that bench/RESULTS.md
// records ("Cluster: broker traffic"):
//
//	go test ./cluster -run TestBrokerTraffic -v
func TestBrokerTraffic(t *testing.T) {
	nd := startNATS(t)
	target := strings.TrimPrefix(nd.url(), "nats://")
	pa, pb, pc := startProxy(t, target), startProxy(t, target), startProxy(t, target)
	// No heartbeat during the test: the figures are of the operations.
	a := startNodeWith(t, cluster.Options{URLs: []string{pa.url()}, HeartbeatInterval: time.Hour})
	b := startNodeWith(t, cluster.Options{URLs: []string{pb.url()}, HeartbeatInterval: time.Hour})
	c := startNodeWith(t, cluster.Options{URLs: []string{pc.url()}, HeartbeatInterval: time.Hour})
	rc := c.dial(t)
	subscribe(t, rc, "sport?lang=EN")
	c.waitSubjects(t, 3)
	s1, s2, s3 := b.dial(t), b.dial(t), b.dial(t)
	pub := a.dial(t)

	type figure struct {
		what  string
		proxy *wireProxy
		want  map[string]int // operations and how many; the others: none
		got   map[string]opCount
	}
	var figures []*figure
	// measure runs act and returns what crossed p meanwhile, once
	// settled: when subjects changed, the PONG that acknowledges them has
	// come back; then a quiet period lets anything else show.
	measure := func(what string, p *wireProxy, want map[string]int, act func()) {
		t.Helper()
		before := p.snapshot()
		act()
		if want["in PONG"] > 0 {
			waitFor(t, func() bool { return p.since(before)["in PONG"].N >= want["in PONG"] }, what+": the PONG")
		}
		time.Sleep(quiet)
		got := p.since(before)
		for op, n := range want {
			if op == "out PING" || op == "in PONG" {
				// One flush per pass of reconcile, which may take the
				// changes in more than one pass: at least one, at most
				// one per subject.
				if max := want["out SUB"] + want["out UNSUB"]; got[op].N < 1 || got[op].N > max {
					t.Errorf("%s: %d %s, want 1 to %d (all: %v)", what, got[op].N, op, max, got)
				}
				continue
			}
			if got[op].N != n {
				t.Errorf("%s: %d %s, want %d (all: %v)", what, got[op].N, op, n, got)
			}
		}
		for op, v := range got {
			if _, ok := want[op]; !ok {
				t.Errorf("%s: unexpected %d %s (%d bytes)", what, v.N, op, v.Bytes)
			}
		}
		figures = append(figures, &figure{what, p, want, got})
	}
	flush := map[string]int{"out PING": 1, "in PONG": 1} // reconcile's FlushTimeout: one or more

	measure("first subscription on a node (news?user=42: base, user=42, all)", pb,
		merge(flush, map[string]int{"out SUB": 3}), func() {
			subscribe(t, s1, "news?user=42")
			b.waitSubjects(t, 3)
		})
	measure("subscription adding one new tag (news?user=43)", pb,
		merge(flush, map[string]int{"out SUB": 1}), func() {
			subscribe(t, s2, "news?user=43")
			b.waitSubjects(t, 4)
		})
	measure("second subscription to a held tag set (news?user=42)", pb, map[string]int{}, func() {
		subscribe(t, s3, "news?user=42")
	})
	measure("publication, publisher's node (news?user=42)", pa, map[string]int{"out PUB": 1}, func() {
		pub.Send(`[7,"news?user=42",{"n":1}]`)
		for _, s := range []*wstest.Client{s1, s3} {
			if got := s.Recv(); got != `[8,"news?user=42",{"n":1}]` {
				t.Fatalf("got %s", got)
			}
		}
	})
	measure("unsubscribing the last holder of a tag (news?user=43)", pb,
		merge(flush, map[string]int{"out UNSUB": 1}), func() {
			s2.Send(`[6,"news?user=43"]`)
			sync(t, s2)
			b.waitSubjects(t, 3)
		})
	measure("unsubscribing one of two holders (news?user=42)", pb, map[string]int{}, func() {
		s3.Send(`[6,"news?user=42"]`)
		sync(t, s3)
	})
	measure("unsubscribing the node's last subscription (news?user=42)", pb,
		merge(flush, map[string]int{"out UNSUB": 3}), func() {
			s1.Send(`[6,"news?user=42"]`)
			sync(t, s1)
			b.waitSubjects(t, 0)
		})

	// A publication's delivery, and the node without a matching
	// subscriber, which gets nothing.
	subscribe(t, s1, "news?user=42")
	b.waitSubjects(t, 3)
	beforeB, beforeC := pb.snapshot(), pc.snapshot()
	const n = 100
	for i := range n {
		pub.Send(fmt.Sprintf(`[7,"news?user=42",%d]`, i))
	}
	for range n {
		s1.Recv()
	}
	time.Sleep(quiet)
	inB, inC := pb.since(beforeB), pc.since(beforeC)
	if inB["in MSG"].N != n || len(inB) != 1 {
		t.Errorf("the subscriber's node got %v for %d publications, want %d MSG only", inB, n, n)
	}
	if len(inC) != 0 {
		t.Errorf("the node without a matching subscriber got %v, want nothing", inC)
	}
	rc.ExpectNothing(0)

	t.Logf("broker traffic between one node and NATS (bytes include the protocol lines):")
	for _, f := range figures {
		keys := slices.Sorted(maps.Keys(f.got))
		var parts []string
		total := 0
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%d %s (%d B)", f.got[k].N, k, f.got[k].Bytes))
			total += f.got[k].Bytes
		}
		if len(parts) == 0 {
			parts = []string{"nothing"}
		}
		t.Logf("  %-66s %5d B: %s", f.what, total, strings.Join(parts, ", "))
	}
	t.Logf("  %-66s %5d B: %d MSG per publication", fmt.Sprintf("%d publications (events of 1-2 B), subscriber's node", n),
		inB["in MSG"].Bytes, inB["in MSG"].N/n)
	t.Logf("  %-66s %5d B", fmt.Sprintf("%d publications, node without a matching subscriber", n), 0)
}

func merge(ms ...map[string]int) map[string]int {
	out := make(map[string]int)
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// TestControlTraffic measures, as TestBrokerTraffic does, what presence
// and the heartbeats cost in broker traffic:
//
//	go test ./cluster -run TestControlTraffic -v
func TestControlTraffic(t *testing.T) {
	t.Run("presence", func(t *testing.T) {
		nd := startNATS(t)
		target := strings.TrimPrefix(nd.url(), "nats://")
		pa, pb := startProxy(t, target), startProxy(t, target)
		a := startNodeWith(t, cluster.Options{URLs: []string{pa.url()}, HeartbeatInterval: time.Hour})
		b := startNodeWith(t, cluster.Options{URLs: []string{pb.url()}, HeartbeatInterval: time.Hour})
		for range 3 {
			subscribe(t, b.dial(t), "news?user=1")
		}
		waitFor(t, func() bool { return a.b.Nodes() == 1 && b.b.Nodes() == 1 }, "the nodes to know each other")
		time.Sleep(quiet)
		beforeA, beforeB := pa.snapshot(), pb.snapshot()
		res, err := a.srv.ClusterPresence(t.Context(), "news?user=1", nil, 100)
		if err != nil || res.Sessions != 3 || res.Nodes != 2 || res.Partial {
			t.Fatalf("%+v %v", res, err)
		}
		time.Sleep(quiet)
		inA, inB := pa.since(beforeA), pb.since(beforeB)
		if inA["out PUB"].N != 1 || inA["in MSG"].N != 1 || inB["in MSG"].N != 1 || inB["out PUB"].N != 1 {
			t.Errorf("asker %v, answerer %v: want one request and one answer", inA, inB)
		}
		t.Logf("one presence request, 3 matching sessions on the other node: asker %s; answerer %s", summary(inA), summary(inB))
	})
	t.Run("heartbeat", func(t *testing.T) {
		nd := startNATS(t)
		target := strings.TrimPrefix(nd.url(), "nats://")
		pa, pb := startProxy(t, target), startProxy(t, target)
		const beat = 100 * time.Millisecond
		a := startNodeWith(t, cluster.Options{URLs: []string{pa.url()}, HeartbeatInterval: beat})
		startNodeWith(t, cluster.Options{URLs: []string{pb.url()}, HeartbeatInterval: beat})
		waitFor(t, func() bool { return a.b.Nodes() == 1 }, "a to know b")
		before := pa.snapshot()
		time.Sleep(20 * beat)
		d := pa.since(before)
		out, in := d["out PUB"], d["in MSG"]
		if out.N == 0 || in.N == 0 {
			t.Fatalf("no heartbeat in %v: %v", 20*beat, d)
		}
		t.Logf("heartbeat: %d B sent per beat, %d B received per beat of each other node", out.Bytes/out.N, in.Bytes/in.N)
	})
}

// summary formats counts as TestBrokerTraffic logs them.
func summary(m map[string]opCount) string {
	var parts []string
	total := 0
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d %s (%d B)", m[k].N, k, m[k].Bytes))
		total += m[k].Bytes
	}
	return fmt.Sprintf("%d B: %s", total, strings.Join(parts, ", "))
}
