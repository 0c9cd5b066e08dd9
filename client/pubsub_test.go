package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// event is one call of an event handler.
type event struct {
	topic string
	data  string
}

// recorder is an event handler that sends what it receives on a channel.
func recorder(ch chan<- event) EventHandler {
	return func(topic string, data json.RawMessage) { ch <- event{topic, string(data)} }
}

// expectEvent waits for the next event on ch and checks it.
func expectEvent(t *testing.T, ch <-chan event, want event) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Errorf("event %+v, want %+v", got, want)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("no event, want %+v", want)
	}
}

// expectNoEvent checks that nothing is on ch. The caller first makes the
// reader process what could have produced an event (see sync).
func expectNoEvent(t *testing.T, ch <-chan event) {
	t.Helper()
	select {
	case got := <-ch:
		t.Errorf("unexpected event %+v", got)
	default:
	}
}

// sync makes sure the client's reader has processed every message the
// server sent before: it sends an event on a topic subscribed to marker and
// waits for it.
func syncReader(t *testing.T, sc *serverConn, marker <-chan event) {
	t.Helper()
	sc.send(`[8,"http://x/marker",0]`)
	select {
	case <-marker:
	case <-time.After(waitTimeout):
		t.Fatal("marker event not received")
	}
}

func TestSubscribe(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	marker := make(chan event, 1)
	if err := c.Subscribe("http://x/marker", recorder(marker)); err != nil {
		t.Fatal(err)
	}
	sc.expect(t, `[5,"http://x/marker"]`)

	events := make(chan event, 16)
	if err := c.Prefix("news", "http://example.com/news#"); err != nil {
		t.Fatal(err)
	}
	sc.expect(t, `[1,"news","http://example.com/news#"]`)
	if err := c.Subscribe("news:sports?lang=FR", recorder(events)); err != nil {
		t.Fatal(err)
	}
	sc.expect(t, `[5,"news:sports?lang=FR"]`)
	if err := c.Subscribe("other:x", recorder(events)); err != nil {
		t.Fatal(err)
	}
	sc.expect(t, `[5,"other:x"]`)

	// The server sends the resolved topic; events arrive in order.
	for i := range 5 {
		sc.send(fmt.Sprintf(`[8,"http://example.com/news#sports?lang=FR",{"n":%d}]`, i))
	}
	for i := range 5 {
		expectEvent(t, events, event{"http://example.com/news#sports?lang=FR", fmt.Sprintf(`{"n":%d}`, i)})
	}
	// An unknown prefix stays as it is.
	sc.send(`[8,"other:x","s"]`)
	expectEvent(t, events, event{"other:x", `"s"`})

	// Events for other strings are dropped: the CURIE itself, another tag
	// order, another topic.
	sc.send(`[8,"news:sports?lang=FR",1]`)
	sc.send(`[8,"http://example.com/news#sports",1]`)
	sc.send(`[8,"http://x/unknown",1]`)
	syncReader(t, sc, marker)
	expectNoEvent(t, events)

	if err := c.Subscribe("http://example.com/news#sports?lang=FR", recorder(events)); !errors.Is(err, ErrSubscribed) {
		t.Errorf("second subscription to the resolved topic: %v, want ErrSubscribed", err)
	}
	if err := c.Unsubscribe("news:sports?lang=FR"); err != nil {
		t.Fatal(err)
	}
	sc.expect(t, `[6,"news:sports?lang=FR"]`)
	sc.send(`[8,"http://example.com/news#sports?lang=FR",1]`)
	syncReader(t, sc, marker)
	expectNoEvent(t, events)
	if err := c.Unsubscribe("news:sports?lang=FR"); !errors.Is(err, ErrNotSubscribed) {
		t.Errorf("second Unsubscribe: %v, want ErrNotSubscribed", err)
	}

	// A redefined prefix applies to later subscriptions only.
	if err := c.Prefix("news", "http://example.com/v2/"); err != nil {
		t.Fatal(err)
	}
	sc.expect(t, `[1,"news","http://example.com/v2/"]`)
	if err := c.Subscribe("news:sports", recorder(events)); err != nil {
		t.Fatal(err)
	}
	sc.expect(t, `[5,"news:sports"]`)
	sc.send(`[8,"http://example.com/v2/sports",null]`)
	expectEvent(t, events, event{"http://example.com/v2/sports", "null"})
}

func TestSubscribeErrors(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	if err := c.Subscribe("http://x/t", nil); !errors.Is(err, ErrNilHandler) {
		t.Errorf("nil handler: %v", err)
	}
	for _, p := range []string{"", "a b", "a:b", `{"x"`, "tag?x"} {
		if err := c.Prefix(p, "http://x/"); !errors.Is(err, ErrBadPrefix) {
			t.Errorf("Prefix(%q): %v, want ErrBadPrefix", p, err)
		}
	}
	for i := range MaxPrefixes {
		if err := c.Prefix(fmt.Sprint("p", i), "http://x/"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Prefix("p0", "http://y/"); err != nil {
		t.Errorf("redefinition at the limit: %v", err)
	}
	if err := c.Prefix("one-more", "http://x/"); !errors.Is(err, ErrTooManyPrefixes) {
		t.Errorf("prefix over the limit: %v, want ErrTooManyPrefixes", err)
	}
}

func TestEventCopied(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	var mu sync.Mutex
	var kept []json.RawMessage
	got := make(chan struct{}, 2)
	c.Subscribe("http://x/t", func(_ string, e json.RawMessage) {
		mu.Lock()
		kept = append(kept, e)
		mu.Unlock()
		got <- struct{}{}
	})
	sc.send(`[8,"http://x/t","first event"]`)
	sc.send(`[8,"http://x/t","2nd"]`)
	<-got
	<-got
	mu.Lock()
	defer mu.Unlock()
	if string(kept[0]) != `"first event"` || string(kept[1]) != `"2nd"` {
		t.Errorf("kept events %s, %s", kept[0], kept[1])
	}
}

func TestPublishWire(t *testing.T) {
	tests := []struct {
		name  string
		topic string
		event any
		opts  []PublishOption
		wire  string
	}{
		{"default", "http://x/t", map[string]int{"a": 1}, nil, `[7,"http://x/t",{"a":1}]`},
		{"null event", "http://x/t", nil, nil, `[7,"http://x/t",null]`},
		{"raw event", "http://x/t", json.RawMessage(`[1, 2]`), nil, `[7,"http://x/t",[1, 2]]`},
		{"tag topic", Topic("http://x/news", map[string]string{"lang": "FR", "user": "42"}), "hi", nil, `[7,"http://x/news?lang=FR&user=42","hi"]`},
		{"exclude me", "http://x/t", 1, []PublishOption{ExcludeMe(true)}, `[7,"http://x/t",1,true]`},
		{"include me", "http://x/t", 1, []PublishOption{ExcludeMe(false)}, `[7,"http://x/t",1,false]`},
		{"exclude list", "http://x/t", 1, []PublishOption{Exclude("a", "b")}, `[7,"http://x/t",1,["a","b"]]`},
		{"exclude nobody by list", "http://x/t", 1, []PublishOption{Exclude()}, `[7,"http://x/t",1,[]]`},
		{"last exclusion wins", "http://x/t", 1, []PublishOption{Exclude("a"), ExcludeMe(true)}, `[7,"http://x/t",1,true]`},
		{"eligible, publisher excluded by default", "http://x/t", 1, []PublishOption{Eligible("e1", "e2")}, `[7,"http://x/t",1,["sess-1"],["e1","e2"]]`},
		{"eligible, exclude me", "http://x/t", 1, []PublishOption{ExcludeMe(true), Eligible("e1")}, `[7,"http://x/t",1,["sess-1"],["e1"]]`},
		{"eligible, include me", "http://x/t", 1, []PublishOption{ExcludeMe(false), Eligible("e1")}, `[7,"http://x/t",1,[],["e1"]]`},
		{"eligible and exclude", "http://x/t", 1, []PublishOption{Exclude("a"), Eligible("e1")}, `[7,"http://x/t",1,["a"],["e1"]]`},
		{"eligible nobody", "http://x/t", 1, []PublishOption{Exclude(), Eligible()}, `[7,"http://x/t",1,[],[]]`},
	}
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.Publish(tt.topic, tt.event, tt.opts...); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			sc.expect(t, tt.wire)
		})
	}
	if err := c.Publish("http://x/t", make(chan int)); err == nil || !strings.Contains(err.Error(), "publish") {
		t.Errorf("Publish of a channel: %v", err)
	}
}
