package router_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

const quiet = 150 * time.Millisecond

// subscribe sends SUBSCRIBEs and waits until the server handled them.
func subscribe(t testing.TB, c *wsClient, topics ...string) {
	t.Helper()
	for _, tp := range topics {
		c.Send(fmt.Sprintf(`[5,%q]`, tp))
	}
	syncSession(t, c)
}

func TestTagMatching(t *testing.T) {
	_, url := startServer(t, router.Options{})
	const base = "http://example.com/news"
	subs := map[string]*wsClient{}
	for _, topic := range []string{
		base, base + "?lang=FR", base + "?lang=FR&user=42", base + "?lang=EN",
		base + "?user=42", "http://example.com/other?lang=FR&user=42",
	} {
		c := dial(t, url)
		subscribe(t, c, topic)
		subs[topic] = c
	}
	pub := dial(t, url)
	tests := []struct {
		publish string
		reach   []string
	}{
		{base + "?lang=FR", []string{base + "?lang=FR", base + "?lang=FR&user=42"}},
		{base, []string{base, base + "?lang=FR", base + "?lang=FR&user=42", base + "?lang=EN", base + "?user=42"}},
		{base + "?user=42&lang=FR", []string{base + "?lang=FR&user=42"}},
		{"?user=42", []string{base + "?lang=FR&user=42", base + "?user=42", "http://example.com/other?lang=FR&user=42"}},
		{base + "?lang=DE", nil},
		{base + "?lang=FR&user=42&x=1", nil},
	}
	for i, tc := range tests {
		t.Run(tc.publish, func(t *testing.T) {
			ev := fmt.Sprintf(`"e%d"`, i)
			pub.T = t
			pub.Send(fmt.Sprintf(`[7,%q,%s]`, tc.publish, ev))
			want := map[string]bool{}
			for _, r := range tc.reach {
				want[r] = true
				c := subs[r]
				c.T = t
				if got, exp := c.Recv(), fmt.Sprintf(`[8,%q,%s]`, r, ev); got != exp {
					t.Errorf("subscriber %s got %s, want %s", r, got, exp)
				}
			}
			for topic, c := range subs {
				if !want[topic] {
					c.T = t
					c.ExpectNothing(quiet)
				}
			}
		})
	}
}

func TestEventCarriesOwnString(t *testing.T) {
	_, url := startServer(t, router.Options{})
	a := dial(t, url)
	// Two subscriptions of one session with the same tag set: two EVENTs,
	// each with its own string.
	subscribe(t, a, "http://x.com/t?a=1&b=2", "http://x.com/t?b=2&a=1")
	b := dial(t, url)
	subscribe(t, b, "http://x.com/t?b=2&a=1")
	pub := dial(t, url)
	pub.Send(`[7,"http://x.com/t?a=1","ev"]`)
	got := []string{a.Recv(), a.Recv()}
	want1, want2 := `[8,"http://x.com/t?a=1&b=2","ev"]`, `[8,"http://x.com/t?b=2&a=1","ev"]`
	if !(got[0] == want1 && got[1] == want2 || got[0] == want2 && got[1] == want1) {
		t.Fatalf("got %q", got)
	}
	a.ExpectNothing(quiet)
	if got := b.Recv(); got != want2 {
		t.Fatalf("b got %s", got)
	}
}

func TestSubscribeUnsubscribe(t *testing.T) {
	_, url := startServer(t, router.Options{})
	c := dial(t, url)
	subscribe(t, c, "http://x.com/t", "http://x.com/t") // duplicate: a no-op
	c.Send(`[6,"http://x.com/never"]`)                  // unknown: a no-op
	pub := dial(t, url)
	pub.Send(`[7,"http://x.com/t",1]`)
	if got := c.Recv(); got != `[8,"http://x.com/t",1]` {
		t.Fatalf("got %s", got)
	}
	c.ExpectNothing(quiet)
	c.Send(`[6,"http://x.com/t"]`)
	syncSession(t, c)
	pub.Send(`[7,"http://x.com/t",2]`)
	c.ExpectNothing(quiet)
	// Malformed topics are dropped; the session goes on.
	subscribe(t, c, "http://x.com/t?bad key=1", "http://x.com/t?a=1&a=2", "http://x.com/t?novalue")
	pub.Send(`[7,"http://x.com/t",3]`)
	c.ExpectNothing(quiet)
	subscribe(t, c, "http://x.com/t")
	pub.Send(`[7,"http://x.com/t",4]`)
	if got := c.Recv(); got != `[8,"http://x.com/t",4]` {
		t.Fatalf("got %s", got)
	}
}

func TestPublishOptions(t *testing.T) {
	const topic = "http://x.com/t"
	setup := func(t *testing.T, o router.Options) (pub, a, b *wsClient) {
		_, url := startServer(t, o)
		pub, a, b = dial(t, url), dial(t, url), dial(t, url)
		for _, c := range []*wsClient{pub, a, b} {
			subscribe(t, c, topic)
		}
		return pub, a, b
	}
	type reach struct{ pub, a, b bool }
	tests := []struct {
		name    string
		publish func(pub, a, b *wsClient) string
		deliver bool
		want    reach
	}{
		{"default excludes publisher", func(p, a, b *wsClient) string { return `[7,"` + topic + `",null]` }, false, reach{false, true, true}},
		{"default with DeliverToPublisher", func(p, a, b *wsClient) string { return `[7,"` + topic + `",null]` }, true, reach{true, true, true}},
		{"excludeMe true", func(p, a, b *wsClient) string { return `[7,"` + topic + `",null,true]` }, true, reach{false, true, true}},
		{"excludeMe false", func(p, a, b *wsClient) string { return `[7,"` + topic + `",null,false]` }, false, reach{true, true, true}},
		{"exclude list", func(p, a, b *wsClient) string {
			return fmt.Sprintf(`[7,%q,null,[%q,"unknown-id"]]`, topic, a.SessionID)
		}, false, reach{true, false, true}},
		{"exclude list with publisher", func(p, a, b *wsClient) string {
			return fmt.Sprintf(`[7,%q,null,[%q]]`, topic, p.SessionID)
		}, false, reach{false, true, true}},
		{"empty exclude list", func(p, a, b *wsClient) string { return `[7,"` + topic + `",null,[]]` }, false, reach{true, true, true}},
		{"eligible", func(p, a, b *wsClient) string {
			return fmt.Sprintf(`[7,%q,null,[],[%q,%q]]`, topic, p.SessionID, b.SessionID)
		}, false, reach{true, false, true}},
		{"eligible and exclude", func(p, a, b *wsClient) string {
			return fmt.Sprintf(`[7,%q,null,[%q],[%q,%q]]`, topic, b.SessionID, a.SessionID, b.SessionID)
		}, false, reach{false, true, false}},
		{"empty eligible means nobody", func(p, a, b *wsClient) string { return `[7,"` + topic + `",null,[],[]]` }, false, reach{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub, a, b := setup(t, router.Options{DeliverToPublisher: tc.deliver})
			pub.Send(tc.publish(pub, a, b))
			for _, r := range []struct {
				c    *wsClient
				want bool
			}{{pub, tc.want.pub}, {a, tc.want.a}, {b, tc.want.b}} {
				if r.want {
					if got := r.c.Recv(); got != `[8,"`+topic+`",null]` {
						t.Fatalf("got %s", got)
					}
				} else {
					r.c.ExpectNothing(quiet)
				}
			}
		})
	}
}

func TestEventPayloads(t *testing.T) {
	_, url := startServer(t, router.Options{})
	sub := dial(t, url)
	subscribe(t, sub, "http://x.com/t")
	pub := dial(t, url)
	for _, ev := range []string{`null`, `true`, `0`, `-1.5e3`, `"s\"q\u00e9"`, `[1,[2]]`, `{"a":{"b":null}}`} {
		pub.Send(`[7,"http://x.com/t",` + ev + `]`)
		if got := sub.Recv(); got != `[8,"http://x.com/t",`+ev+`]` {
			t.Fatalf("event %s arrived as %s", ev, got)
		}
	}
}

func TestPublishOrder(t *testing.T) {
	_, url := startServer(t, router.Options{})
	subs := []*wsClient{dial(t, url), dial(t, url), dial(t, url)}
	for _, c := range subs {
		subscribe(t, c, "http://x.com/t?g=1")
	}
	pub := dial(t, url)
	const n = 500
	var b strings.Builder
	for i := range n {
		b.Reset()
		fmt.Fprintf(&b, `[7,"http://x.com/t?g=1",%d]`, i)
		pub.Send(b.String())
	}
	for _, c := range subs {
		for i := range n {
			if got, want := c.Recv(), fmt.Sprintf(`[8,"http://x.com/t?g=1",%d]`, i); got != want {
				t.Fatalf("got %s, want %s", got, want)
			}
		}
	}
}

func TestServerPublish(t *testing.T) {
	srv, url := startServer(t, router.Options{})
	c := dial(t, url)
	subscribe(t, c, "http://x.com/t?user=42&lang=FR")
	n, err := srv.Publish("?user=42", []byte(`{"hi":1}`))
	if err != nil || n != 1 {
		t.Fatalf("Publish = %d, %v", n, err)
	}
	if got := c.Recv(); got != `[8,"http://x.com/t?user=42&lang=FR",{"hi":1}]` {
		t.Fatalf("got %s", got)
	}
	if _, err := srv.Publish("x", []byte(`{bad`)); err == nil {
		t.Fatal("Publish accepted invalid JSON")
	}
	if got := srv.Stats().Subscriptions; got != 1 {
		t.Fatalf("Stats().Subscriptions = %d", got)
	}
}
