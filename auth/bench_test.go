package auth

import (
	"context"
	"testing"

	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// benchPolicy is a realistic browser policy: a few exact rules and
// prefixes.
func benchPolicy() *policy {
	return compile(Permissions{
		RPC: []RPCRule{
			{URI: "http://example.com/calc#", Prefix: true, Call: true},
			{URI: "http://example.com/admin#", Prefix: true},
			{URI: "http://example.com/rpc#ping", Call: true},
			{URI: "http://example.com/rpc#echo", Call: true},
		},
		PubSub: []TopicRule{
			{URI: "http://example.com/", Prefix: true, Sub: true},
			{URI: "http://example.com/chat", Pub: true, Sub: true},
			{URI: "http://example.com/admin", Prefix: true},
		},
	})
}

// The allowed path of every check, as the middleware runs it.
func BenchmarkCheck(b *testing.B) {
	p := benchPolicy()
	sub, _ := tagindex.ParseTopic("http://example.com/news?lang=FR&user=42")
	bound := []tagindex.Tag{{Key: "user", Value: "42"}}
	b.Run("call=exact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !p.canCall("http://example.com/rpc#ping") {
				b.Fatal("denied")
			}
		}
	})
	b.Run("call=prefix", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !p.canCall("http://example.com/calc#square") {
				b.Fatal("denied")
			}
		}
	})
	b.Run("subscribe=prefix+bound", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			base, _ := sub.Base()
			if !p.canTopic(base, canSub) {
				b.Fatal("denied")
			}
			if _, ok := checkBound(sub, bound); !ok {
				b.Fatal("bound")
			}
		}
	})
	b.Run("middleware=publish", func(b *testing.B) {
		a, err := New(Options{Anonymous: Permissions{PubSub: []TopicRule{{URI: "http://example.com/chat", Pub: true}}}})
		if err != nil {
			b.Fatal(err)
		}
		h := a
		pub := &router.Publication{Topic: "http://example.com/chat?room=1"}
		pub.Tags, _ = tagindex.ParseTopic(pub.Topic)
		var s router.Session // no state: the anonymous grant, read as on a real session
		b.ReportAllocs()
		for b.Loop() {
			if err := h.Publish(context.Background(), &s, pub); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestCheckAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	p := benchPolicy()
	sub, _ := tagindex.ParseTopic("http://example.com/news?lang=FR&user=42")
	bound := []tagindex.Tag{{Key: "user", Value: "42"}}
	a, err := New(Options{Anonymous: Permissions{
		RPC:    []RPCRule{{URI: "urn:", Prefix: true, Call: true}},
		PubSub: []TopicRule{{URI: "http://example.com/", Prefix: true, Pub: true, Sub: true}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	topics := a
	rpc := a.RPC(router.RPCHandlerFunc(func(context.Context, *router.Session, *router.Call) (any, error) { return nil, nil }))
	var s router.Session
	call := &router.Call{URI: "urn:x"}
	pub := &router.Publication{Topic: "http://example.com/news?lang=FR", Tags: sub}
	rsub := &router.Subscription{Topic: pub.Topic, Tags: sub}
	ctx := context.Background()
	n := testing.AllocsPerRun(1000, func() {
		base, _ := sub.Base()
		if !p.canCall("http://example.com/calc#square") || !p.canTopic(base, canSub) {
			t.Fatal("denied")
		}
		if _, ok := checkBound(sub, bound); !ok {
			t.Fatal("bound")
		}
		if _, err := rpc.ServeCall(ctx, &s, call); err != nil {
			t.Fatal(err)
		}
		if topics.Publish(ctx, &s, pub) != nil || topics.Subscribe(ctx, &s, rsub) != nil {
			t.Fatal("denied")
		}
	})
	if n != 0 {
		t.Fatalf("allowed path allocates %v times", n)
	}
}
