package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// TestGoClient runs the Go backend client against the real server.
func TestGoClient(t *testing.T) {
	_, url := startServer(t, router.Options{RPC: testRPC()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dialClient := func() *client.Client {
		c, err := client.Dial(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	backend, browser := dialClient(), dialClient()

	if err := backend.Prefix("calc", "http://example.com/simple/calc#"); err != nil {
		t.Fatal(err)
	}
	var sq float64
	if err := backend.Call(ctx, "calc:square", &sq, 12); err != nil || sq != 144 {
		t.Fatalf("square = %v, %v", sq, err)
	}
	var pe *protocol.Error
	if err := backend.Call(ctx, "http://example.com/fail", nil); !errors.As(err, &pe) || pe.URI != "http://example.com/error#fail" {
		t.Fatalf("fail: %v", err)
	}
	var who string
	if err := browser.Call(ctx, "http://example.com/whoami", &who); err != nil || who != browser.SessionID() {
		t.Fatalf("whoami = %q, %v", who, err)
	}

	got := make(chan string, 10)
	topic := client.Topic("http://example.com/news", map[string]string{"lang": "FR", "user": "42"})
	if err := browser.Subscribe(topic, func(topic string, ev json.RawMessage) {
		got <- topic + " " + string(ev)
	}); err != nil {
		t.Fatal(err)
	}
	var ignore any
	browser.Call(ctx, "http://example.com/null", &ignore) // the SUBSCRIBE is handled

	if err := backend.Publish("http://example.com/news?lang=FR", map[string]string{"title": "Bonjour"}); err != nil {
		t.Fatal(err)
	}
	if err := backend.Publish("http://example.com/news?lang=EN", "not for FR"); err != nil {
		t.Fatal(err)
	}
	if err := backend.Publish("http://example.com/news?user=42", "only", client.Eligible(browser.SessionID())); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		topic + ` {"title":"Bonjour"}`,
		topic + ` "only"`,
	} {
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("got %s, want %s", g, want)
			}
		case <-ctx.Done():
			t.Fatal("event did not arrive")
		}
	}
	// The publisher is excluded by default, included on request.
	if err := browser.Publish(topic, 1); err != nil {
		t.Fatal(err)
	}
	if err := browser.Publish(topic, 2, client.ExcludeMe(false)); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-got:
		if g != topic+" 2" {
			t.Fatalf("got %s", g)
		}
	case <-ctx.Done():
		t.Fatal("event did not arrive")
	}
}
