package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/forward"
)

// TestParseForward: the forward section maps to forward.Options, and its
// errors name their keys.
func TestParseForward(t *testing.T) {
	cfg, err := Parse([]byte(`
forward:
  routes:
    - prefix: "http://example.com/app#"
      url: http://127.0.0.1:9000/rpc
      timeout: 3s
      max_in_flight: 8
      headers: {X-Api-Key: k1}
    - {name: site, prefix: "http://example.com/", url: "https://rpc.example.com/"}
  subscribe_hook: {url: "http://127.0.0.1:9000/subscribe", timeout: 500ms, on_error: allow}
  connect_hook: {url: "http://127.0.0.1:9000/connect"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Forward.Enabled() || Default().Forward.Enabled() {
		t.Fatal("Enabled")
	}
	o := cfg.Forward.Options(nil)
	r := o.Routes[0]
	if len(o.Routes) != 2 || r.Prefix != "http://example.com/app#" || r.URL != "http://127.0.0.1:9000/rpc" ||
		r.Timeout != 3*time.Second || r.MaxInFlight != 8 || r.Header.Get("X-Api-Key") != "k1" || o.Routes[1].Name != "site" {
		t.Fatalf("routes %+v", o.Routes)
	}
	if h := o.SubscribeHook; h == nil || h.OnError != forward.Allow || h.Timeout != 500*time.Millisecond {
		t.Fatalf("subscribe_hook %+v", h)
	}
	if h := o.ConnectHook; h == nil || h.OnError != forward.Refuse || h.URL != "http://127.0.0.1:9000/connect" {
		t.Fatalf("connect_hook %+v", h)
	}
	if _, err := forward.New(o); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ yaml, want string }{
		{"forward: {routes: [{url: 'http://x/'}]}", "forward.routes[0].prefix: must not be empty"},
		{"forward: {routes: [{prefix: a, url: 'ftp://x/'}]}", "forward.routes[0].url"},
		{"forward: {routes: [{prefix: a}]}", "forward.routes[0].url: must not be empty"},
		{"forward: {routes: [{prefix: a, url: 'http://x/'}, {prefix: a, url: 'http://y/'}]}", "forward.routes[1].prefix: duplicate"},
		{"forward: {routes: [{prefix: a, url: 'http://x/', timeout: off}]}", "forward.routes[0].timeout: cannot be off"},
		{"forward: {routes: [{prefix: a, url: 'http://x/', max_in_flight: -1}]}", "forward.routes[0].max_in_flight"},
		{"forward: {routes: [{prefix: a, url: 'http://x/', headers: {'A B': c}}]}", "forward.routes[0].headers"},
		{"forward: {subscribe_hook: {url: 'http://x/', on_error: maybe}}", "forward.subscribe_hook.on_error"},
		{"forward: {connect_hook: {timeout: 1s}}", "forward.connect_hook.url"},
		{"forward: {routes: [{prefix: a, url: 'http://x/', timout: 1s}]}", "timout"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// TestREADMEForward: the forward block of the README's "Backends in any
// language" is a valid configuration.
func TestREADMEForward(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Backends in any language\n")
	_, block, ok2 := strings.Cut(section, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README: no yaml block under \"Backends in any language\"")
	}
	cfg, err := Parse([]byte(block))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := forward.New(cfg.Forward.Options(nil)); err != nil {
		t.Fatal(err)
	}
}
