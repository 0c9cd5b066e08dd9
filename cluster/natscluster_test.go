package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// startNATSCluster starts n nats-servers joined into one NATS cluster
// (each with a route to every other), on free loopback ports. When
// isolated, they do not advertise each other to their clients, so that a
// client knows only the server it was given.
func startNATSCluster(t *testing.T, n int, isolated bool) []*natsd {
	t.Helper()
	clientPorts, routePorts := make([]int, n), make([]int, n)
	for i := range n {
		clientPorts[i], routePorts[i] = freePort(t), freePort(t)
	}
	ns := make([]*natsd, n)
	for i := range n {
		var routes []string
		for j := range n {
			if j != i {
				routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(routePorts[j]))
			}
		}
		args := []string{"-cluster_name", "tagwamp-test",
			"-cluster", "nats://127.0.0.1:" + strconv.Itoa(routePorts[i]), "-routes", strings.Join(routes, ",")}
		if isolated {
			args = append(args, "-no_advertise")
		}
		ns[i] = startNATSWith(t, clientPorts[i], args...)
	}
	return ns
}

// recorder reads one subscriber's EVENTs on topic, whose events are
// "publisher:seq" strings, and keeps each publisher's sequence numbers,
// failing the test when one publisher's arrive out of order or twice.
// Warm-up events ("w...") are skipped.
type recorder struct {
	t     *testing.T
	name  string
	c     *wstest.Client
	topic string
	got   map[string][]int
}

func newRecorder(t *testing.T, name string, c *wstest.Client, topic string) *recorder {
	return &recorder{t: t, name: name, c: c, topic: topic, got: make(map[string][]int)}
}

// drain reads what arrives until nothing has for d.
func (r *recorder) drain(d time.Duration) {
	r.t.Helper()
	for {
		m, err := r.c.Next(d)
		if err != nil {
			return
		}
		r.add(m)
	}
}

// waitFor reads until cond holds, for up to 10 s.
func (r *recorder) waitFor(cond func() bool, what string) {
	r.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: timed out waiting for %s; got %v", r.name, what, r.got)
		}
		if m, err := r.c.Next(20 * time.Millisecond); err == nil {
			r.add(m)
		}
	}
}

func (r *recorder) add(m string) {
	r.t.Helper()
	var v []json.RawMessage
	var ev string
	if err := json.Unmarshal([]byte(m), &v); err != nil || len(v) != 3 || string(v[0]) != "8" ||
		string(v[1]) != strconv.Quote(r.topic) || json.Unmarshal(v[2], &ev) != nil {
		r.t.Fatalf("%s: unexpected message %s", r.name, m)
	}
	if strings.HasPrefix(ev, "w") {
		r.got["w"+ev[1:]] = nil // the publisher's warm-up arrived
		return
	}
	pub, s, _ := strings.Cut(ev, ":")
	n, err := strconv.Atoi(s)
	if err != nil {
		r.t.Fatalf("%s: unexpected event %q", r.name, ev)
	}
	if seq := r.got[pub]; len(seq) > 0 && n <= seq[len(seq)-1] {
		r.t.Fatalf("%s: %s:%d after %s:%d: duplicated or out of order", r.name, pub, n, pub, seq[len(seq)-1])
	}
	r.got[pub] = append(r.got[pub], n)
}

// has reports whether pub's publication n arrived.
func (r *recorder) has(pub string, n int) bool { return slices.Contains(r.got[pub], n) }

// span returns the numbers from lo to hi, both included.
func span(lo, hi int) []int {
	var s []int
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

// publisher is one WAMP session publishing "name:seq" events on topic.
type publisher struct {
	name  string
	c     *wstest.Client
	topic string
	next  int
}

func (p *publisher) publish(n int) {
	for range n {
		p.c.Send(fmt.Sprintf(`[7,%q,"%s:%d",false]`, p.topic, p.name, p.next))
		p.next++
	}
}

// warmUp has every publisher publish warm-up events until each recorder
// got one from each: the NATS cluster has then propagated every node's
// interest along its routes.
func warmUp(t *testing.T, pubs []*publisher, recs []*recorder) {
	t.Helper()
	for _, p := range pubs {
		key := "w" + p.name
		for deadline := time.Now().Add(10 * time.Second); ; {
			p.c.Send(fmt.Sprintf(`[7,%q,%q,false]`, p.topic, key))
			done := true
			for _, r := range recs {
				r.drain(20 * time.Millisecond)
				if _, ok := r.got[key]; !ok {
					done = false
				}
			}
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's warm-up did not reach every node", p.name)
			}
		}
	}
}

// topic is what the routers of the NATS cluster tests subscribe to.
const topic = "news?user=1"

// nodesOnEach starts a router on each NATS server of ns (named a, b, c,
// ...), each with a session subscribed to topic (recorded) and a
// publisher on topic.
func nodesOnEach(t *testing.T, ns []*natsd, topic string) (nodes []*node, pubs []*publisher, recs []*recorder) {
	t.Helper()
	for i, nd := range ns {
		n := startNode(t, nd.url())
		nodes = append(nodes, n)
		name := string(rune('a' + i))
		r := n.dial(t)
		subscribe(t, r, topic)
		recs = append(recs, newRecorder(t, "receiver on "+name, r, topic))
		pubs = append(pubs, &publisher{name: name, c: n.dial(t), topic: topic})
	}
	return nodes, pubs, recs
}

// TestThreeNATSNodes: routers attached to three different NATS servers of
// one NATS cluster; a publication on any router reaches the matching
// sessions on all of them, and nothing else; presence counts them all.
func TestThreeNATSNodes(t *testing.T) {
	ns := startNATSCluster(t, 3, false)
	nodes, pubs, recs := nodesOnEach(t, ns, topic)
	other := nodes[2].dial(t)
	subscribe(t, other, "sport?lang=EN")
	warmUp(t, pubs, recs)
	before := nodes[2].b.Stats().Received

	const n = 50
	for range n {
		for _, p := range pubs {
			p.publish(1)
		}
	}
	for _, r := range recs {
		r.waitFor(func() bool {
			return len(r.got["a"]) == n && len(r.got["b"]) == n && len(r.got["c"]) == n
		}, "every publication")
		for _, p := range pubs {
			if !slices.Equal(r.got[p.name], span(0, n-1)) {
				t.Errorf("%s got from %s %v", r.name, p.name, r.got[p.name])
			}
		}
	}
	other.ExpectNothing(quiet)
	if got := nodes[2].b.Stats().Received - before; got != 2*n {
		t.Errorf("c received %d messages from NATS, want %d (a's and b's)", got, 2*n)
	}

	// Presence across the NATS cluster: one matching session per router.
	for i, nd := range nodes {
		waitFor(t, func() bool { return nd.b.Nodes() == 2 }, "every router known")
		res, err := nd.srv.ClusterPresence(context.Background(), topic, nil, 10)
		if err != nil || res.Sessions != 3 || len(res.IDs) != 3 || res.Nodes != 3 || res.Partial {
			t.Errorf("presence on router %d: %+v, %v", i, res, err)
		}
	}
}

// TestNATSNodeRestart stops, in the middle of publication streams from a
// and b, the NATS server that router b is connected to (the second of a
// three-server NATS cluster), and starts it again. In both cases local
// delivery never stops (every receiver gets every publication of its own
// router), a's publications reach c without a gap (NATS servers 1 and 3
// stay up), nothing is duplicated and each publisher's order holds
// everywhere; what is lost is exactly:
//
//   - isolated (the servers do not advertise each other, so b knows only
//     its own): b misses a's publications from the moment its server
//     stopped to the moment its interest is back in the NATS cluster,
//     one contiguous run that holds every publication a made while b was
//     disconnected; a and c miss b's publications from the moment b's
//     server stopped to the moment the restarted server's routes carry
//     them, one contiguous run that holds every publication b made while
//     disconnected, each of which b counted in Stats.Unforwarded;
//   - failover (the default: nats.go learns the cluster's other servers
//     and reconnects to one of them without waiting for the restart): the
//     same, with runs as long as the failover takes, possibly empty.
func TestNATSNodeRestart(t *testing.T) {
	for _, isolated := range []bool{true, false} {
		name := "failover"
		if isolated {
			name = "isolated"
		}
		t.Run(name, func(t *testing.T) { testNATSNodeRestart(t, isolated) })
	}
}

func testNATSNodeRestart(t *testing.T, isolated bool) {
	ns := startNATSCluster(t, 3, isolated)
	nodes, pubs, recs := nodesOnEach(t, ns, topic)
	a, b := nodes[0], nodes[1]
	pa, pb := pubs[0], pubs[1]
	ra, rb, rc := recs[0], recs[1], recs[2]
	warmUp(t, pubs[:2], recs)

	// Up: 20 each, everywhere.
	pa.publish(20)
	pb.publish(20)
	for _, r := range recs {
		r.waitFor(func() bool { return r.has("a", 19) && r.has("b", 19) }, "the first 20 of a and b")
	}

	// b's NATS server down.
	unforwarded := b.b.Stats().Unforwarded
	ns[1].stop()
	stopped := time.Now()
	if isolated {
		waitFor(t, func() bool { return errors.Is(b.srv.Ready(), router.ErrBrokerDisconnected) }, "b to see the outage")
		pa.publish(20) // 20..39
		pb.publish(20) // 20..39: b's own receiver only
		ra.waitFor(func() bool { return ra.has("a", 39) }, "a:39")
		rc.waitFor(func() bool { return rc.has("a", 39) }, "a:39")
		rb.waitFor(func() bool { return rb.has("b", 39) }, "b:39")
		for _, r := range recs {
			r.drain(quiet)
		}
		if got := b.b.Stats().Unforwarded - unforwarded; got != 20 {
			t.Errorf("b counted %d publications unforwarded while disconnected, want 20", got)
		}
		ns[1].start()
	}

	// Publish until b gets a's publications and a and c get b's again.
	from := pa.next
	var resumed time.Duration
	for deadline := time.Now().Add(15 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatalf("remote delivery did not resume within 15s: a got from b %v, b got from a %v", ra.got["b"], rb.got["a"])
		}
		pa.publish(1)
		pb.publish(1)
		for _, r := range recs {
			r.drain(20 * time.Millisecond)
		}
		if last(rb.got["a"]) >= from && last(ra.got["b"]) >= from && last(rc.got["b"]) >= from {
			resumed = time.Since(stopped)
			break
		}
	}
	unforwarded = b.b.Stats().Unforwarded - unforwarded
	pa.publish(20)
	pb.publish(20)
	end := pa.next - 1
	if pb.next-1 != end {
		t.Fatalf("a published %d, b %d", pa.next, pb.next)
	}
	for _, r := range recs {
		r.waitFor(func() bool { return r.has("a", end) && r.has("b", end) }, "the last of a and b")
		r.drain(quiet)
	}

	// What each receiver got, exactly.
	check := func(r *recorder, pub string, gap bool) int {
		t.Helper()
		got := r.got[pub]
		want := span(0, end)
		if gap {
			// At most one contiguous run lost, from 20 (the first after
			// the stop), past 39 when isolated.
			i := slices.IndexFunc(got, func(n int) bool { return n >= 20 })
			if i < 0 || isolated && got[i] < 40 {
				t.Fatalf("%s got from %s %v: want 0-19, then a gap from 20 past 39", r.name, pub, got)
			}
			want = append(span(0, 19), span(got[i], end)...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s got from %s %v, want %v", r.name, pub, got, want)
		}
		return end + 1 - len(got)
	}
	check(ra, "a", false)
	check(rb, "b", false)
	check(rc, "a", false)
	lostAtB := check(rb, "a", true)
	lostAtA := check(ra, "b", true)
	lostAtC := check(rc, "b", true)
	if uint64(lostAtA) < unforwarded || uint64(lostAtC) < unforwarded || isolated && unforwarded < 20 {
		t.Errorf("b counted %d unforwarded; a missed %d of b's, c %d: want each at least that (and 20 when isolated)",
			unforwarded, lostAtA, lostAtC)
	}
	t.Logf("remote delivery resumed %v after the NATS server stopped; b missed %d of a's publications, a %d of b's, c %d of b's; b counted %d unforwarded",
		resumed.Round(time.Millisecond), lostAtB, lostAtA, lostAtC, unforwarded)
	waitFor(t, func() bool { return a.srv.Ready() == nil && b.srv.Ready() == nil }, "every router ready")
}

func last(s []int) int {
	if len(s) == 0 {
		return -1
	}
	return s[len(s)-1]
}
