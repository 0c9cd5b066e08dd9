package cluster_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tagwamp/tagwamp/cluster"
	"github.com/tagwamp/tagwamp/router"
)

// TestClusterPresence: with two and three routers on one NATS server,
// Server.ClusterPresence on any of them counts and lists the matching
// sessions of all of them.
func TestClusterPresence(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run("nodes="+strconv.Itoa(n), func(t *testing.T) {
			nd := startNATS(t)
			var nodes []*node
			var want []string
			for i := range n {
				nodes = append(nodes, startNode(t, nd.url()))
				// Node i holds i+1 matching sessions, one with two
				// matching subscriptions, and one that does not match.
				for j := range i + 1 {
					c := nodes[i].dial(t)
					subscribe(t, c, "news?user=1")
					if j == 0 {
						subscribe(t, c, "sport?user=1&lang=FR")
					}
					want = append(want, c.SessionID)
				}
				subscribe(t, nodes[i].dial(t), "news?user=2")
			}
			for _, nd := range nodes {
				waitFor(t, func() bool { return nd.b.Nodes() == n-1 }, "every node known")
			}
			slices.Sort(want)
			for i, nd := range nodes {
				res, err := nd.srv.ClusterPresence(context.Background(), "", []byte(`{"user":1}`), 100)
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(res.IDs)
				if res.Sessions != len(want) || !slices.Equal(res.IDs, want) || res.Nodes != n || res.Partial {
					t.Errorf("node %d: %+v, want %d sessions %v on %d nodes, complete", i, res, len(want), want, n)
				}
				// A topic, and a cap on the ids: the count stays exact.
				res, err = nd.srv.ClusterPresence(context.Background(), "news?user=1", nil, 2)
				if err != nil {
					t.Fatal(err)
				}
				if res.Sessions != len(want) || len(res.IDs) != 2 || res.Nodes != n || res.Partial {
					t.Errorf("node %d, 2 ids: %+v", i, res)
				}
				for _, id := range res.IDs {
					if !slices.Contains(want, id) {
						t.Errorf("node %d: id %s matches nothing", i, id)
					}
				}
			}
		})
	}
}

// TestClusterPresenceNodeLost: a node that vanishes without a word makes
// the answer partial, after waiting PresenceTimeout, until three heartbeat
// intervals have passed; a node that leaves (Close) is forgotten at once.
func TestClusterPresenceNodeLost(t *testing.T) {
	nd := startNATS(t)
	target := strings.TrimPrefix(nd.url(), "nats://")
	o := func(url string) cluster.Options {
		return cluster.Options{URLs: []string{url}, HeartbeatInterval: 200 * time.Millisecond, PresenceTimeout: 300 * time.Millisecond}
	}
	pc := startProxy(t, target)
	a, b, c := startNodeWith(t, o(nd.url())), startNodeWith(t, o(nd.url())), startNodeWith(t, o(pc.url()))
	for _, n := range []*node{a, b, c} {
		subscribe(t, n.dial(t), "news?user=1")
	}
	waitFor(t, func() bool { return a.b.Nodes() == 2 }, "a to know b and c")
	presence := func() router.PresenceResult {
		t.Helper()
		res, err := a.srv.ClusterPresence(context.Background(), "news?user=1", nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := presence(); res.Sessions != 3 || res.Nodes != 3 || res.Partial {
		t.Fatalf("all up: %+v", res)
	}

	pc.cut() // c vanishes: a still knows it for three heartbeats
	start := time.Now()
	res := presence()
	if a.b.Nodes() == 2 { // not forgotten yet: a waited for it
		if res.Sessions != 2 || res.Nodes != 2 || !res.Partial {
			t.Errorf("c lost: %+v, want 2 sessions on 2 nodes, partial", res)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("answered in %v, before PresenceTimeout", d)
		}
	}
	waitFor(t, func() bool { return a.b.Nodes() == 1 }, "a to forget c")
	if res := presence(); res.Sessions != 2 || res.Nodes != 2 || res.Partial {
		t.Errorf("c forgotten: %+v, want 2 sessions on 2 nodes, complete", res)
	}
	if s := a.b.Stats(); s.PresenceRequests < 3 {
		t.Errorf("stats: %+v", s)
	}

	b.b.Close() // b leaves: its bye
	waitFor(t, func() bool { return a.b.Nodes() == 0 }, "a to forget b")
	if res := presence(); res.Sessions != 1 || res.Nodes != 1 || res.Partial {
		t.Errorf("alone: %+v", res)
	}
}

// TestClusterPresenceDisconnected: without NATS, the answer is this
// node's, partial.
func TestClusterPresenceDisconnected(t *testing.T) {
	nd := startNATS(t)
	a := startNode(t, nd.url())
	c := a.dial(t)
	subscribe(t, c, "news?user=1")
	nd.stop()
	waitFor(t, func() bool { return !a.b.Connected() }, "a disconnected")
	res, err := a.srv.ClusterPresence(context.Background(), "news?user=1", nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sessions != 1 || !slices.Equal(res.IDs, []string{c.SessionID}) || res.Nodes != 1 || !res.Partial {
		t.Errorf("%+v", res)
	}
}

// TestHelloAnswered: a node answers every hello with a beat, a second one
// from a node it already knows included. A starting node says hello from
// nats.go's connect handler before it has subscribed to the answers, and
// again once it has: had the second gone unanswered, it would have learnt
// of the others only at their next heartbeat.
func TestHelloAnswered(t *testing.T) {
	nd := startNATS(t)
	startNodeWith(t, cluster.Options{URLs: []string{nd.url()}, HeartbeatInterval: time.Hour})
	nc, err := nats.Connect(nd.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	beats := make(chan []byte, 16)
	sub, err := nc.Subscribe("tagwamp.nodes", func(m *nats.Msg) {
		if len(m.Data) > 1 && m.Data[1] == 2 { // nodeBeat
			beats <- m.Data
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	hello := append([]byte{1, 1}, []byte("another-node-id!")...) // version 1, nodeHello, 16-byte id
	for i := range 2 {
		if err := nc.Publish("tagwamp.nodes", hello); err != nil {
			t.Fatal(err)
		}
		select {
		case <-beats:
		case <-time.After(10 * time.Second):
			t.Fatalf("hello %d: no beat in answer", i+1)
		}
	}
}
