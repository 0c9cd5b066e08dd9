package config

import (
	"strings"
	"testing"
	"time"
)

// TestParseBroker: the broker section maps to cluster.Options, and its
// mistakes name their keys.
func TestParseBroker(t *testing.T) {
	c, err := Parse([]byte(`
broker:
  nats:
    urls: [nats://10.0.0.5:4222, tls://10.0.0.6:4222]
    subject_prefix: acme.prod
    user: tagwamp
    password: secret
    reconnect_wait: 250ms
    presence_timeout: 2s
    heartbeat: 10s
`))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Broker.Options()
	if !c.Broker.Enabled() || len(o.URLs) != 2 || o.SubjectPrefix != "acme.prod" || o.User != "tagwamp" ||
		o.Password != "secret" || o.ReconnectWait != 250*time.Millisecond ||
		o.PresenceTimeout != 2*time.Second || o.HeartbeatInterval != 10*time.Second {
		t.Fatalf("options = %+v", o)
	}
	if c, err := Parse([]byte("broker:\n")); err != nil || c.Broker.Enabled() {
		t.Fatalf("an empty broker section: %v, enabled %v", err, c.Broker.Enabled())
	}
	for _, tc := range []struct{ yaml, want string }{
		{"broker: {nats: {}}", "broker.nats.urls: at least one"},
		{"broker: {nats: {urls: ['http://x:4222']}}", "broker.nats.urls"},
		{"broker: {nats: {urls: ['nats://']}}", "broker.nats.urls"},
		{"broker: {nats: {urls: ['nats://x:4222'], subject_prefix: 'a..b'}}", "broker.nats.subject_prefix"},
		{"broker: {nats: {urls: ['nats://x:4222'], subject_prefix: 'a.>'}}", "broker.nats.subject_prefix"},
		{"broker: {nats: {urls: ['nats://x:4222'], user: u}}", "broker.nats.user"},
		{"broker: {nats: {urls: ['nats://x:4222'], user: u, password: p, token: t}}", "broker.nats.token"},
		{"broker: {nats: {urls: ['nats://x:4222'], reconnect_wait: -1s}}", "broker.nats.reconnect_wait"},
		{"broker: {nats: {urls: ['nats://x:4222'], presence_timeout: -1s}}", "broker.nats.presence_timeout"},
		{"broker: {nats: {urls: ['nats://x:4222'], heartbeat: -1s}}", "broker.nats.heartbeat"},
		{"broker: {nats: {url: 'nats://x:4222'}}", "url"},
		{"broker: {redis: {}}", "redis"},
	} {
		_, err := Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// TestValidateProcs: procs, reuse_port and procs_without_broker, and the
// debug addresses of the processes.
func TestValidateProcs(t *testing.T) {
	const nats = "broker: {nats: {urls: ['nats://x:4222']}}\n"
	for _, tc := range []struct{ yaml, want string }{
		{"procs: 4\nreuse_port: true\n" + nats, ""},
		{"reuse_port: true\n", ""},
		{"procs: 2\nprocs_without_broker: true\n", ""},
		{"procs: 2\n", "procs: 2 processes without broker.nats"},
		{"procs: 0\n", "procs: must be 1 to 1024"},
		{"procs: 1025\n" + nats, "procs: must be 1 to 1024"},
		{"procs: 4\ndebug_addr: 127.0.0.1:65534\n" + nats, "debug_addr: port 65534 plus 4 processes"},
		{"procs: 4\ndebug_addr: 127.0.0.1:0\n" + nats, ""},
	} {
		_, err := Parse([]byte(tc.yaml))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
	c := Default()
	c.DebugAddr = "127.0.0.1:9090"
	if got := c.DebugAddrOf(3); got != "127.0.0.1:9093" {
		t.Errorf("DebugAddrOf(3) = %s", got)
	}
	c.DebugAddr = "127.0.0.1:0"
	if got := c.DebugAddrOf(3); got != "127.0.0.1:0" {
		t.Errorf("DebugAddrOf(3) = %s", got)
	}
}
