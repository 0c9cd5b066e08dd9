package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/auth"
)

func TestExampleFileIsTheDefault(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "tagwamp.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	// The example writes empty lists; the default has nil ones.
	want.Middleware.IP.Allow, want.Middleware.IP.Deny = []string{}, []string{}
	want.Middleware.Origin.Allow = []string{}
	want.Applications = []Application{}
	want.Auth.Anonymous = auth.Permissions{RPC: []auth.RPCRule{}, PubSub: []auth.TopicRule{}}
	want.TrustedProxies = []string{}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("example file = %+v\nwant Default() = %+v", cfg, want)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// check inspects a valid configuration; nil when an error is expected.
		check func(t *testing.T, c Config)
		// wantErr lists substrings of the expected error.
		wantErr []string
	}{
		{
			name:  "empty document",
			yaml:  "",
			check: func(t *testing.T, c Config) { equal(t, c, Default()) },
		},
		{
			name:  "comments only",
			yaml:  "# nothing\n",
			check: func(t *testing.T, c Config) { equal(t, c, Default()) },
		},
		{
			name: "valid file",
			yaml: `
addr: ":9000"
log_level: DEBUG
server_ident: acme/1
deliver_to_publisher: true
io_uring: off
poller: easygo
limits:
  max_message_size: 65536
  workers: 8
  write_timeout: 2s
  ping_interval: "off"
  call_timeout: Off
middleware:
  ip:
    allow: [10.0.0.0/8, "::1"]
    deny: [10.66.0.0/16]
  origin:
    allow: ["https://*.example.com"]
    require: true
builtins: false
`,
			check: func(t *testing.T, c Config) {
				want := Default()
				want.Addr = ":9000"
				want.LogLevel = Level(slog.LevelDebug)
				want.ServerIdent = "acme/1"
				want.DeliverToPublisher = true
				want.IOUring = false
				want.Poller = "easygo"
				want.Limits.MaxMessageSize = 65536
				want.Limits.Workers = 8
				want.Limits.WriteTimeout = Duration(2 * time.Second)
				want.Limits.PingInterval = Off
				want.Limits.CallTimeout = Off
				want.Middleware.IP = IPRules{Allow: []string{"10.0.0.0/8", "::1"}, Deny: []string{"10.66.0.0/16"}}
				want.Middleware.Origin = OriginRules{Allow: []string{"https://*.example.com"}, Require: true}
				want.Builtins = false
				equal(t, c, want)
			},
		},
		{
			name: "applications in Gomoob's format",
			yaml: `
authorizeOpen: false
applications:
  - key: application1
    secret: B4ajW3P7jfWEYPZsQV8mnteHg97G67uW
    authorizeOpen: true
  - key: backend
    secret: another-secret-0123456789
    permissions:
      rpc:
        - {uri: "http://example.com/calc#", prefix: true, call: true}
      pubsub:
        - {uri: "http://example.com/news", pub: true, sub: true}
      broadcast: true
    token_permissions: {}
    cra: {salt: salt123, iterations: 1000}
auth:
  anonymous:
    pubsub:
      - {uri: "http://example.com/", prefix: true, sub: true}
  auth_timeout: 30s
  challenge_ttl: 10s
  fail_delay: 1s
  token_leeway: off
  challenge_rate: {per_second: 5, burst: 0}
`,
			check: func(t *testing.T, c Config) {
				want := Default()
				want.AuthorizeOpen = false
				backend := auth.Permissions{
					RPC:       []auth.RPCRule{{URI: "http://example.com/calc#", Prefix: true, Call: true}},
					PubSub:    []auth.TopicRule{{URI: "http://example.com/news", Pub: true, Sub: true}},
					Broadcast: true,
				}
				want.Applications = []Application{
					{Key: "application1", Secret: "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW", AuthorizeOpen: true},
					{Key: "backend", Secret: "another-secret-0123456789", Permissions: &backend, TokenPermissions: &auth.Permissions{},
						CRA: &auth.SaltParams{Salt: "salt123", Iterations: 1000}},
				}
				want.Auth = Auth{
					Anonymous:     auth.Permissions{PubSub: []auth.TopicRule{{URI: "http://example.com/", Prefix: true, Sub: true}}},
					AuthTimeout:   Duration(30 * time.Second),
					ChallengeTTL:  Duration(10 * time.Second),
					FailDelay:     Duration(time.Second),
					TokenLeeway:   Off,
					ChallengeRate: Rate{PerSecond: 5},
				}
				equal(t, c, want)
				if !c.AuthEnabled() {
					t.Fatal("auth is off")
				}
				o := c.AuthOptions(nil)
				if !o.RequireCredentials || len(o.Applications) != 2 || o.AuthTimeout != 30*time.Second || o.TokenLeeway >= 0 ||
					o.Applications[1].CRA == nil || *o.Applications[1].CRA != (auth.SaltParams{Salt: "salt123", Iterations: 1000}) ||
					o.ChallengeRate.PerSecond != 5 || o.ChallengeRate.Burst != 0 {
					t.Fatalf("auth options %+v", o)
				}
				if _, err := auth.New(o); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(fmt.Sprintf("%+v %#v", c, c), "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW") {
					t.Fatal("printing the configuration shows a secret")
				}
			},
		},
		{
			name: "default: auth off",
			yaml: "",
			check: func(t *testing.T, c Config) {
				if c.AuthEnabled() {
					t.Fatal("auth is on by default")
				}
			},
		},
		{
			name:    "auth on without applications",
			yaml:    "authorizeOpen: false\n",
			wantErr: []string{"config: authorizeOpen: false requires at least one application under applications"},
		},
		{
			name:    "unknown application key",
			yaml:    "applications:\n  - key: a\n    secret: 0123456789abcdef\n    authorizeopen: true\n",
			wantErr: []string{"config: applications[0].authorizeopen: unknown key (line 4)"},
		},
		{
			name:    "unknown permission key",
			yaml:    "auth:\n  anonymous:\n    rpc:\n      - {uri: x, calls: true}\n",
			wantErr: []string{"config: auth.anonymous.rpc[0].calls: unknown key (line 4)"},
		},
		{
			name: "bad applications",
			yaml: `
applications:
  - key: ""
    secret: 0123456789abcdef
  - key: a
    secret: short
  - key: a
    secret: B4ajW3P7jfWEYPZsQV8mnteHg97G67uW
    permissions:
      rpc: [{uri: "", call: true}]
    token_permissions:
      pubsub: [{uri: "news?user=1", sub: true}]
  - key: b
    secret: B4ajW3P7jfWEYPZsQV8mnteHg97G67uW
    cra: {iterations: 1000001, keylen: 65}
  - key: c
    secret: B4ajW3P7jfWEYPZsQV8mnteHg97G67uW
    cra: {salt: s, iterations: -1, keylen: -1}
`,
			wantErr: []string{
				"config: applications[0].key: must not be empty",
				"config: applications[1].secret: must be at least 16 bytes",
				`config: applications[2].key: duplicate key "a"`,
				"config: applications[2].permissions: rpc[0]: empty uri",
				`config: applications[2].token_permissions: pubsub[0]: uri "news?user=1" has a query`,
				"config: applications[3].cra.salt: must not be empty (leave cra out for an unsalted key)",
				"config: applications[3].cra.iterations: must be from 1 to 1000000 (absent: 10000)",
				"config: applications[3].cra.keylen: must be from 1 to 64 (absent: 32)",
				"config: applications[4].cra.iterations: must be from 1 to 1000000",
				"config: applications[4].cra.keylen: must be from 1 to 64",
			},
		},
		{
			name:    "unknown cra key",
			yaml:    "applications:\n  - key: a\n    secret: 0123456789abcdef\n    cra: {salt: s, iters: 5}\n",
			wantErr: []string{"config: applications[0].cra.iters: unknown key (line 4)"},
		},
		{
			name:    "bad auth durations",
			yaml:    "auth:\n  challenge_ttl: off\n  fail_delay: 0s\n  auth_timeout: -1s\n",
			wantErr: []string{"config: auth.challenge_ttl: cannot be off", "config: auth.fail_delay: must be positive", "config: auth.auth_timeout: must be positive, or off"},
		},
		{
			name:    "bad challenge rate",
			yaml:    "auth:\n  challenge_rate: {per_second: -1, burst: -2}\n",
			wantErr: []string{"config: auth.challenge_rate.per_second: must be 0 or positive", "config: auth.challenge_rate.burst: must be 0 or positive"},
		},
		{
			name: "challenge rate off",
			yaml: "applications: [{key: a, secret: 0123456789abcdef}]\nauth:\n  challenge_rate: {per_second: 0}\n",
			check: func(t *testing.T, c Config) {
				if o := c.AuthOptions(nil); o.ChallengeRate.PerSecond >= 0 {
					t.Fatalf("challenge_rate per_second 0 maps to %+v, want off (negative)", o.ChallengeRate)
				}
			},
		},
		{
			name:    "bad anonymous permissions",
			yaml:    "auth:\n  anonymous:\n    pubsub: [{uri: x, sub: true}, {uri: x}]\n",
			wantErr: []string{`config: auth.anonymous: pubsub[1]: duplicate rule for "x"`},
		},
		{
			name: "limits, proxies and TLS",
			yaml: `
limits:
  max_handshakes: 64
  max_conns: 10000
  max_conns_per_ip: 100
  retry_after: 30s
  max_subscriptions: 0
  max_prefixes: 16
  message_rate: {per_second: 50, burst: 0}
  byte_rate: {per_second: 0}
trusted_proxies: [10.0.0.0/8, "::1", 192.0.2.7]
tls:
  cert_file: /etc/tagwamp/cert.pem
  key_file: /etc/tagwamp/key.pem
`,
			check: func(t *testing.T, c Config) {
				want := Default()
				want.Limits.MaxHandshakes = 64
				want.Limits.MaxConns = 10000
				want.Limits.MaxConnsPerIP = 100
				want.Limits.RetryAfter = Duration(30 * time.Second)
				want.Limits.MaxSubscriptions = 0
				want.Limits.MaxPrefixes = 16
				want.Limits.MessageRate = Rate{PerSecond: 50}
				want.Limits.ByteRate = Rate{PerSecond: 0, Burst: 32 << 20}
				want.TrustedProxies = []string{"10.0.0.0/8", "::1", "192.0.2.7"}
				want.TLS = TLS{CertFile: "/etc/tagwamp/cert.pem", KeyFile: "/etc/tagwamp/key.pem"}
				equal(t, c, want)
			},
		},
		{
			name: "handshake limits",
			yaml: `
limits:
  handshake_first_byte_timeout: off
  max_handshakes_per_ip: 0
  max_request_line: 4096
  max_header_line: 32768
  max_handshake_bytes: 131072
`,
			check: func(t *testing.T, c Config) {
				want := Default()
				want.Limits.HandshakeFirstByteTimeout = Off
				want.Limits.MaxHandshakesPerIP = 0
				want.Limits.MaxRequestLine = 4096
				want.Limits.MaxHeaderLine = 32768
				want.Limits.MaxHandshakeBytes = 131072
				equal(t, c, want)
			},
		},
		{
			name:    "bad handshake limits",
			yaml:    "limits:\n  max_handshakes_per_ip: -1\n  max_request_line: 0\n  max_header_line: -1\n  max_handshake_bytes: 0\n  handshake_first_byte_timeout: 0s\n",
			wantErr: []string{"config: limits.max_request_line: must be positive", "config: limits.max_header_line: must be positive", "config: limits.max_handshake_bytes: must be positive", "config: limits.max_handshakes_per_ip: must be 0 or positive", "config: limits.handshake_first_byte_timeout: must be positive, or off"},
		},
		{
			name:    "negative limits",
			yaml:    "limits:\n  max_conns: -1\n  max_subscriptions: -2\n  message_rate: {per_second: -5}\n  byte_rate: {burst: -1}\n",
			wantErr: []string{"config: limits.max_conns: must be 0 or positive", "config: limits.max_subscriptions: must be 0 or positive", "config: limits.message_rate.per_second: must be 0 or positive", "config: limits.byte_rate.burst: must be 0 or positive"},
		},
		{
			name:    "retry_after off",
			yaml:    "limits:\n  retry_after: off\n",
			wantErr: []string{"config: limits.retry_after: cannot be off"},
		},
		{
			name:    "bad trusted proxy",
			yaml:    "trusted_proxies: [10.0.0.0/8, proxy.example.com]\n",
			wantErr: []string{`config: trusted_proxies: [1] "proxy.example.com" is not an IP address or CIDR prefix`},
		},
		{
			name:    "tls key without cert",
			yaml:    "tls:\n  key_file: k.pem\n",
			wantErr: []string{"config: tls: cert_file and key_file go together"},
		},
		{
			name:    "unknown tls key",
			yaml:    "tls:\n  cert: c.pem\n",
			wantErr: []string{"config: tls.cert: unknown key (line 2)"},
		},
		{
			name:    "unknown top-level key",
			yaml:    "addr: :1\nlisten: :2\n",
			wantErr: []string{"config: listen: unknown key (line 2)"},
		},
		{
			name:    "unknown nested key",
			yaml:    "limits:\n  max_mesage_size: 10\n",
			wantErr: []string{"config: limits.max_mesage_size: unknown key (line 2)"},
		},
		{
			name:    "bad duration",
			yaml:    "limits:\n  write_timeout: 10x\n",
			wantErr: []string{"config: limits.write_timeout: line 2:", `invalid duration "10x"`},
		},
		{
			name:    "bare number duration",
			yaml:    "limits:\n  call_timeout: 10\n",
			wantErr: []string{"config: limits.call_timeout: line 2:", `invalid duration "10"`},
		},
		{
			name:    "duration not a scalar",
			yaml:    "limits:\n  call_timeout: [1s]\n",
			wantErr: []string{"config: limits.call_timeout: line 2:"},
		},
		{
			name:    "off where not allowed",
			yaml:    "limits:\n  write_timeout: off\n",
			wantErr: []string{"config: limits.write_timeout: cannot be off"},
		},
		{
			name:    "zero duration",
			yaml:    "limits:\n  ping_interval: 0s\n  handshake_timeout: -1s\n",
			wantErr: []string{"config: limits.ping_interval: must be positive, or off", "config: limits.handshake_timeout: must be positive"},
		},
		{
			name:    "bad int",
			yaml:    "limits:\n  workers: many\n",
			wantErr: []string{"config: limits.workers: line 2: cannot unmarshal !!str `many` into int"},
		},
		{
			name:    "non-positive size",
			yaml:    "limits:\n  max_message_size: 0\n  max_queue_bytes: -5\n  workers: -1\n",
			wantErr: []string{"config: limits.max_message_size: must be positive", "config: limits.max_queue_bytes: must be positive", "config: limits.workers: must be 0"},
		},
		{
			name:    "bad CIDR",
			yaml:    "middleware:\n  ip:\n    deny: [10.0.0.0/8, 10.0.0.0/40]\n",
			wantErr: []string{`config: middleware.ip: deny[1] "10.0.0.0/40"`},
		},
		{
			name:    "bad origin",
			yaml:    "middleware:\n  origin:\n    allow: [example.com]\n",
			wantErr: []string{`config: middleware.origin: allow[0] "example.com"`},
		},
		{
			name:    "bad log level",
			yaml:    "log_level: verbose\n",
			wantErr: []string{`config: log_level: line 1: invalid log level "verbose"`},
		},
		{
			name:    "bad log format",
			yaml:    "log_format: xml\n",
			wantErr: []string{`config: log_format: must be text or json, not "xml"`},
		},
		{
			name:    "log level as a mapping",
			yaml:    "log_level: {a: b}\n",
			wantErr: []string{`config: log_level: line 1: invalid log level: want one of debug`},
		},
		{
			name:    "two documents",
			yaml:    "addr: 127.0.0.1:1\n---\naddr: 127.0.0.1:2\n",
			wantErr: []string{"config: the file holds more than one YAML document"},
		},
		{
			name:    "bad bool",
			yaml:    "builtins: perhaps\n",
			wantErr: []string{"config: builtins: line 1: cannot unmarshal"},
		},
		{
			name:    "list where string wanted",
			yaml:    "middleware:\n  ip:\n    allow:\n      - 10.0.0.0/8\n      - [x]\n",
			wantErr: []string{"config: middleware.ip.allow[1]: line 5:"},
		},
		{
			name:    "unknown poller",
			yaml:    "poller: kqueue\n",
			wantErr: []string{`config: poller: must be default or easygo, not "kqueue"`},
		},
		{
			name:    "empty addr",
			yaml:    "addr: \"\"\n",
			wantErr: []string{"config: addr: must not be empty"},
		},
		{
			name:    "syntax error",
			yaml:    "limits: [\n",
			wantErr: []string{"config: yaml:"},
		},
		{
			name:    "not a mapping",
			yaml:    "- addr\n",
			wantErr: []string{"config: line 1: cannot unmarshal !!seq"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				tt.check(t, c)
				return
			}
			if err == nil {
				t.Fatalf("no error; want %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func equal(t *testing.T, got, want Config) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
		ok   bool
	}{
		{"debug", slog.LevelDebug, true},
		{"INFO", slog.LevelInfo, true},
		{" warn ", slog.LevelWarn, true},
		{"warning", slog.LevelWarn, true},
		{"error", slog.LevelError, true},
		{"info+2", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
				t.Fatalf("ParseLevel(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	if s := Off.String(); s != "off" {
		t.Errorf("Off.String() = %q", s)
	}
	if s := Duration(90 * time.Second).String(); s != "1m30s" {
		t.Errorf("String() = %q", s)
	}
	if s := Level(slog.LevelWarn).String(); s != "warn" {
		t.Errorf("Level.String() = %q", s)
	}
}
