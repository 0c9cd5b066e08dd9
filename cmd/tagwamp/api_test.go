package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
)

// TestRunServesTheAPI: the zero-config server on loopback serves the HTTP
// API on its port, open; a publication made with it reaches a WAMP
// subscriber.
func TestRunServesTheAPI(t *testing.T) {
	r := startRun(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://"+r.addr.String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan string, 1)
	if err := c.Subscribe("http://example.com/news?lang=FR&user=42", func(topic string, event json.RawMessage) {
		got <- string(event)
	}); err != nil {
		t.Fatal(err)
	}
	var pong any
	if err := c.Call(ctx, "http://tagwamp.dev/procedure#ping", &pong); err != nil { // the SUBSCRIBE is in
		t.Fatal(err)
	}
	base := "http://" + r.addr.String()
	resp, err := http.Post(base+"/api/publish", "application/json",
		strings.NewReader(`{"topic": "http://example.com/news?lang=FR", "event": {"title": "Bonjour"}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"receivers":1`) {
		t.Fatalf("publish: %d %s", resp.StatusCode, b)
	}
	select {
	case e := <-got:
		if e != `{"title": "Bonjour"}` { // passed on as sent
			t.Fatalf("event %s", e)
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
}

// TestAPIOffBeyondLoopback: without keys, the API is not served on an
// address beyond loopback, and the server says so.
func TestAPIOffBeyondLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		keys bool
		want bool
	}{
		{"127.0.0.1:8080", false, true},
		{"localhost:8080", false, true},
		{"[::1]:8080", false, true},
		{":8080", false, false},
		{"0.0.0.0:8080", false, false},
		{"192.0.2.1:8080", false, false},
		{":8080", true, true},
	} {
		cfg := defaultConfigFor(t, tc.addr, tc.keys)
		var logs strings.Builder
		if got := apiServed(cfg, newTestLogger(&logs)); got != tc.want {
			t.Errorf("%s keys=%v: served %v, want %v", tc.addr, tc.keys, got, tc.want)
		}
		if !tc.want && !strings.Contains(logs.String(), "HTTP API off") {
			t.Errorf("%s: no log line says the API is off: %s", tc.addr, logs.String())
		}
	}
}

// defaultConfigFor is the default configuration on addr, with one API key
// when keys is set.
func defaultConfigFor(t *testing.T, addr string, keys bool) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = addr
	if keys {
		cfg.API.Keys = []config.APIKey{{Name: "backend", Key: auth.Secret("0123456789abcdef0123"), Endpoints: []string{"*"}}}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestApplicationAPIKey: an application with an api list is an API key
// (its secret) for the endpoints listed, and turns the API on beyond
// loopback.
func TestApplicationAPIKey(t *testing.T) {
	cfg := config.Default()
	cfg.Addr = ":8080"
	cfg.Applications = []config.Application{{Key: "billing", Secret: auth.Secret("0123456789abcdef0123"), API: []string{"publish"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	keys := cfg.APIKeys()
	if len(keys) != 1 || keys[0].Name != "application billing" || keys[0].Key.Reveal() != "0123456789abcdef0123" || keys[0].Endpoints[0] != "publish" {
		t.Fatalf("keys %+v", keys)
	}
	if !apiServed(cfg, newTestLogger(io.Discard)) {
		t.Fatal("the API is off beyond loopback with an application key")
	}
	cfg.Applications[0].API = []string{"everything"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "applications[0].api") {
		t.Fatalf("an unknown endpoint: %v", err)
	}
}
