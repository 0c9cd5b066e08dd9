package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

// TestRefusalsLogged refuses an upgrade by Origin and finds the refusal
// in the log at info level, with the origin.
func TestRefusalsLogged(t *testing.T) {
	file := writeFile(t, "middleware:\n  origin:\n    allow: [\"https://app.example.com\"]\n")
	r := startRun(t, "-config", file)
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.addr.String()+"/", nil)
	for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
		"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "wamp", "Origin": "https://evil.example.com"} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	want := `level=INFO msg="connection refused: origin" client=127.0.0.1 origin=https://evil.example.com reason="origin not allowed"`
	if !strings.Contains(r.logs.String(), want) {
		t.Errorf("logs lack %q:\n%s", want, r.logs)
	}
}

// TestLogRefusalsKeepsConnFilter checks that the wrapper of a filter that
// also filters connections still does, so the router asks it at accept.
func TestLogRefusalsKeepsConnFilter(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	ip, err := handlers.NewIPFilter(nil, []string{"10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	origin, err := handlers.NewOriginCheck(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    router.HandshakeFilter
		conn bool
	}{
		{"ip", ip, true},
		{"origin", origin, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := logRefusals(tt.name, tt.f, logger).(router.ConnFilter); ok != tt.conn {
				t.Errorf("ConnFilter = %v, want %v", ok, tt.conn)
			}
		})
	}
}
