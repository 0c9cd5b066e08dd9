package router_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// fakeBroker records what the server tells a Broker.
type fakeBroker struct {
	mu        sync.Mutex
	tags      map[tagindex.Tag]bool // interest, as last reported
	changes   int
	pubs      []string // "tags|event|publisher|excludePublisher|exclude|eligible"
	connected bool
}

func newFakeBroker() *fakeBroker {
	return &fakeBroker{tags: map[tagindex.Tag]bool{}, connected: true}
}

func (b *fakeBroker) Interest(t tagindex.Tag, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tags[t] == on {
		panic(fmt.Sprintf("interest in %v reported %v twice", t, on))
	}
	b.changes++
	if on {
		b.tags[t] = true
	} else {
		delete(b.tags, t)
	}
}

func (b *fakeBroker) Publish(p *router.BrokerPublication) {
	ids := func(l [][]byte) string {
		var s []string
		for _, id := range l {
			s = append(s, string(id))
		}
		return strings.Join(s, ",")
	}
	elig := "-"
	if p.HasEligible {
		elig = "[" + ids(p.Eligible) + "]"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pubs = append(b.pubs, fmt.Sprintf("%s|%s|%s|%v|%s|%s", p.Tags.String(), p.Event, p.Publisher,
		p.ExcludePublisher, ids(p.Exclude), elig))
}

func (b *fakeBroker) Connected() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.connected
}

// interest returns the tags reported held, as "key=value" ("base" for the
// base, "*" for AnyTag), sorted.
func (b *fakeBroker) interest() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for t := range b.tags {
		switch {
		case t == router.AnyTag:
			out = append(out, "*")
		case t.Key == tagindex.BaseKey:
			out = append(out, "base="+t.Value)
		default:
			out = append(out, t.Key+"="+t.Value)
		}
	}
	slices.Sort(out)
	return out
}

func (b *fakeBroker) published() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.pubs)
}

func TestBrokerInterest(t *testing.T) {
	b := newFakeBroker()
	srv, u := startServer(t, router.Options{Broker: b})
	check := func(want ...string) {
		t.Helper()
		if got := b.interest(); !slices.Equal(got, want) {
			t.Fatalf("interest = %v, want %v", got, want)
		}
	}
	check()
	a := dial(t, u)
	subscribe(t, a, "news?lang=FR&user=42", "news?lang=EN")
	check("*", "base=news", "lang=EN", "lang=FR", "user=42")
	c := dial(t, u)
	subscribe(t, c, "news?lang=FR")
	a.Send(`[6,"news?lang=FR&user=42"]`)
	syncSession(t, a)
	check("*", "base=news", "lang=EN", "lang=FR")
	a.Send(`[6,"news?lang=EN"]`)
	syncSession(t, a)
	check("*", "base=news", "lang=FR")
	// A plain connection without tags holds no tag, but a subscription.
	p := dialPlain(t, srv, u, `{"user":7}`, 2)
	check("*", "base=news", "lang=FR", "user=7")
	c.Conn.Close()
	waitFor(t, func() bool {
		return slices.Equal(b.interest(), []string{"*", "user=7"})
	}, "the closed session's interest to go")
	p.Conn.Close()
	waitFor(t, func() bool { return len(b.interest()) == 0 }, "no interest")
}

func TestBrokerPublish(t *testing.T) {
	b := newFakeBroker()
	srv, u := startServer(t, router.Options{Broker: b})
	sub := dial(t, u)
	subscribe(t, sub, "news?lang=FR&user=42")
	pub := dial(t, u)
	id := pub.SessionID
	pub.Send(`[7,"news?lang=FR",{"t":1}]`)
	pub.Send(`[7,"news?lang=FR",2,true]`)
	pub.Send(`[7,"news?lang=FR",3,false]`)
	pub.Send(`[7,"news?lang=FR",4,["x","y"]]`)
	pub.Send(`[7,"news?lang=FR",5,[],["z"]]`)
	pub.Send(`[7,"news?lang=FR",6,[],[]]`) // reaches nobody: not forwarded
	syncSession(t, pub)
	for i := 1; i <= 4; i++ { // not 5: eligible [z]
		sub.Recv() // local delivery happened first
	}
	if _, err := srv.Publish("news?user=42", []byte(`7`)); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.PublishWith(router.BackendPublication{Tags: []byte(`{"user":42}`), Event: []byte(`8`),
		Exclude: []string{"q"}, Eligible: []string{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.PublishWith(router.BackendPublication{Tags: []byte(`{"user":42}`), Event: []byte(`9`),
		Eligible: []string{"e"}}); err != nil {
		t.Fatal(err)
	}
	plain := dialPlain(t, srv, u, `{"user":1}`, 2)
	plain.Send(`{"message":10,"tags":{"lang":"FR"}}`)
	waitFor(t, func() bool { return len(b.published()) == 8 }, "the plain request's publication")
	want := []string{
		`news?lang=FR|{"t":1}|` + id + `|true||-`,
		`news?lang=FR|2|` + id + `|true||-`,
		`news?lang=FR|3|` + id + `|false||-`,
		`news?lang=FR|4|` + id + `|false|x,y|-`,
		`news?lang=FR|5|` + id + `|false||[z]`,
		`news?user=42|7||false||-`,
		`?user=42|9||false||[e]`,
	}
	got := b.published()
	if len(got) != 8 || !slices.Equal(got[:7], want) {
		t.Fatalf("published:\n%s\nwant:\n%s\n(and the plain request's)", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The plain connection's id was sent to nobody: any id, excluded.
	if p := got[7]; !strings.HasPrefix(p, "?lang=FR|10|") || !strings.HasSuffix(p, "|true||-") || len(p) < len("?lang=FR|10||true||-")+22 {
		t.Fatalf("plain request published as %s", p)
	}
}

func TestDeliverRemote(t *testing.T) {
	b := newFakeBroker()
	srv, u := startServer(t, router.Options{Broker: b})
	s1 := dial(t, u)
	subscribe(t, s1, "news?user=42&lang=FR")
	s2 := dial(t, u)
	subscribe(t, s2, "news?lang=FR")
	other := dial(t, u)
	subscribe(t, other, "news?lang=EN")
	plain := dialPlain(t, srv, u, `{"lang":"FR"}`, 4)
	tags := func(topic string) tagindex.Set {
		s, err := tagindex.ParseTopic(topic)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ids := func(l ...string) [][]byte {
		out := [][]byte{}
		for _, id := range l {
			out = append(out, []byte(id))
		}
		return out
	}
	tests := []struct {
		name  string
		p     router.BrokerPublication
		reach []*wsClient
		plain bool
	}{
		{"base", router.BrokerPublication{Tags: tags("news?lang=FR")}, []*wsClient{s1, s2}, false},
		{"no base", router.BrokerPublication{Tags: tags("?lang=FR")}, []*wsClient{s1, s2}, true},
		{"exclude", router.BrokerPublication{Tags: tags("?lang=FR"), Exclude: ids(s1.SessionID)}, []*wsClient{s2}, true},
		{"eligible", router.BrokerPublication{Tags: tags("?lang=FR"), Eligible: ids(s2.SessionID), HasEligible: true}, []*wsClient{s2}, false},
		{"eligible empty", router.BrokerPublication{Tags: tags("?lang=FR"), Eligible: ids(), HasEligible: true}, nil, false},
		{"exclude publisher", router.BrokerPublication{Tags: tags("?lang=FR"), Publisher: s2.SessionID, ExcludePublisher: true}, []*wsClient{s1}, true},
		{"include publisher", router.BrokerPublication{Tags: tags("?lang=FR"), Publisher: s2.SessionID}, []*wsClient{s1, s2}, true},
		{"user", router.BrokerPublication{Tags: tags("news?user=42")}, []*wsClient{s1}, false},
	}
	topics := map[*wsClient]string{s1: "news?user=42&lang=FR", s2: "news?lang=FR"}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := fmt.Sprintf(`{"n":%d}`, i)
			tc.p.Event = []byte(ev)
			n, err := srv.DeliverRemote(&tc.p)
			if err != nil {
				t.Fatal(err)
			}
			want := len(tc.reach)
			if tc.plain {
				want++
			}
			if n != want {
				t.Errorf("DeliverRemote = %d, want %d", n, want)
			}
			for _, c := range tc.reach {
				c.T = t
				if got, exp := c.Recv(), fmt.Sprintf(`[8,%q,%s]`, topics[c], ev); got != exp {
					t.Errorf("got %s, want %s", got, exp)
				}
			}
			if tc.plain {
				plain.T = t
				if got := plain.Recv(); got != ev {
					t.Errorf("plain got %s, want %s", got, ev)
				}
			}
			for _, c := range []*wsClient{s1, s2, other, plain} {
				if !slices.Contains(tc.reach, c) && (c != plain || !tc.plain) {
					c.T = t
					c.ExpectNothing(20 * time.Millisecond)
				}
			}
		})
	}
	if _, err := srv.DeliverRemote(&router.BrokerPublication{Tags: tags("news"), Event: []byte(`{`)}); err == nil {
		t.Error("DeliverRemote took an event that is not JSON")
	}
	if got := b.published(); len(got) != 0 {
		t.Errorf("DeliverRemote handed the broker %v", got)
	}
}

func TestReadyBrokerDisconnected(t *testing.T) {
	b := newFakeBroker()
	srv, _ := startServer(t, router.Options{Broker: b})
	waitFor(t, func() bool { return srv.Ready() == nil }, "Ready")
	b.mu.Lock()
	b.connected = false
	b.mu.Unlock()
	if err := srv.Ready(); err != router.ErrBrokerDisconnected {
		t.Fatalf("Ready = %v, want %v", err, router.ErrBrokerDisconnected)
	}
}

// presenceBroker is a fakeBroker that answers for other nodes.
type presenceBroker struct {
	*fakeBroker
	res  router.PresenceResult
	err  error
	asks []string // the tag sets asked, and maxIDs
}

func (b *presenceBroker) RemotePresence(_ context.Context, tags tagindex.Set, maxIDs int) (router.PresenceResult, error) {
	b.asks = append(b.asks, fmt.Sprintf("%s %d", tags, maxIDs))
	return b.res, b.err
}

// TestClusterPresence: ClusterPresence adds the other nodes' figures, as
// a PresenceBroker reports them, to this server's, and caps the ids.
func TestClusterPresence(t *testing.T) {
	errBusy := errors.New("busy")
	tests := []struct {
		name   string
		broker router.Broker // nil: none
		max    int
		want   router.PresenceResult // IDs: how many
		err    error
	}{
		{"no broker", nil, 10, router.PresenceResult{Sessions: 2, IDs: make([]string, 2), Nodes: 1}, nil},
		{"a broker without presence", newFakeBroker(), 10, router.PresenceResult{Sessions: 2, IDs: make([]string, 2), Nodes: 1}, nil},
		{"two other nodes", &presenceBroker{fakeBroker: newFakeBroker(), res: router.PresenceResult{Sessions: 5, IDs: []string{"x", "y", "z"}, Nodes: 2}},
			10, router.PresenceResult{Sessions: 7, IDs: make([]string, 5), Nodes: 3}, nil},
		{"ids capped", &presenceBroker{fakeBroker: newFakeBroker(), res: router.PresenceResult{Sessions: 5, IDs: []string{"x", "y", "z"}, Nodes: 2}},
			3, router.PresenceResult{Sessions: 7, IDs: make([]string, 3), Nodes: 3}, nil},
		{"partial", &presenceBroker{fakeBroker: newFakeBroker(), res: router.PresenceResult{Sessions: 1, IDs: []string{"x"}, Nodes: 1, Partial: true}},
			10, router.PresenceResult{Sessions: 3, IDs: make([]string, 3), Nodes: 2, Partial: true}, nil},
		{"busy", &presenceBroker{fakeBroker: newFakeBroker(), err: errBusy}, 10, router.PresenceResult{}, errBusy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, u := startServer(t, router.Options{Broker: tc.broker})
			for range 2 {
				subscribe(t, dial(t, u), "news?user=1")
			}
			got, err := srv.ClusterPresence(context.Background(), "", []byte(`{"user":1}`), tc.max)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got.Sessions != tc.want.Sessions || len(got.IDs) != len(tc.want.IDs) || got.Nodes != tc.want.Nodes || got.Partial != tc.want.Partial {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if pb, ok := tc.broker.(*presenceBroker); ok && (len(pb.asks) != 1 || pb.asks[0] != fmt.Sprintf("?user=1 %d", tc.max)) {
				t.Errorf("asked %v", pb.asks)
			}
		})
	}
	// A bad selection asks nobody.
	pb := &presenceBroker{fakeBroker: newFakeBroker()}
	srv, _ := startServer(t, router.Options{Broker: pb})
	if _, err := srv.ClusterPresence(context.Background(), "?a", nil, 1); !errors.Is(err, router.ErrBadPublication) || len(pb.asks) != 0 {
		t.Errorf("err = %v, asks %v", err, pb.asks)
	}
}
