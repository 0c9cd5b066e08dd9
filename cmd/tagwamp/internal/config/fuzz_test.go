package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse checks that Parse never panics on any bytes, that it refuses
// bad input with an error that carries the package prefix, and that a
// configuration it accepts is valid and survives a round trip: written
// back as YAML (durations and levels in their String form) it parses to
// the same Config. Seeds: testdata/fuzz/FuzzParse, the example file and
// the cases of TestParse.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "tagwamp.example.yaml")); err == nil {
		f.Add(b)
	} else {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("Parse(%q) = %q: no package prefix", data, err)
			}
			if !reflect.DeepEqual(cfg, Config{}) {
				t.Fatalf("Parse(%q) failed but returned %+v", data, cfg)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse(%q) accepted an invalid configuration: %v", data, err)
		}
		out, err := yaml.Marshal(document(cfg))
		if err != nil {
			t.Fatalf("marshal %+v: %v", cfg, err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, written back as %q, which fails: %v", data, cfg, out, err)
		}
		if a, b := normalize(cfg), normalize(again); !reflect.DeepEqual(a, b) {
			t.Fatalf("Parse(%q) = %+v\nwritten back as %q\nparses to %+v", data, a, out, b)
		}
	})
}

// document is cfg as the YAML document that would configure it, every
// key written.
func document(c Config) map[string]any {
	l, ip, o := c.Limits, c.Middleware.IP, c.Middleware.Origin
	return map[string]any{
		"addr":                 c.Addr,
		"log_level":            c.LogLevel.String(),
		"server_ident":         c.ServerIdent,
		"deliver_to_publisher": c.DeliverToPublisher,
		"builtins":             c.Builtins,
		"limits": map[string]any{
			"max_message_size":  l.MaxMessageSize,
			"max_queue_bytes":   l.MaxQueueBytes,
			"workers":           l.Workers,
			"handshake_timeout": l.HandshakeTimeout.String(),
			"write_timeout":     l.WriteTimeout.String(),
			"ping_interval":     l.PingInterval.String(),
			"ping_timeout":      l.PingTimeout.String(),
			"call_timeout":      l.CallTimeout.String(),
		},
		"middleware": map[string]any{
			"ip":     map[string]any{"allow": ip.Allow, "deny": ip.Deny},
			"origin": map[string]any{"allow": o.Allow, "require": o.Require},
		},
	}
}

// normalize makes empty lists nil: "allow: []" and no allow key are the
// same configuration.
func normalize(c Config) Config {
	for _, l := range []*[]string{&c.Middleware.IP.Allow, &c.Middleware.IP.Deny, &c.Middleware.Origin.Allow} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return c
}
