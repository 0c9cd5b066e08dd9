package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

// Config is the whole configuration file. Each field documents its key;
// Default has the defaults.
type Config struct {
	// Addr, key addr, is the TCP address to listen on. Default
	// "127.0.0.1:8080"; ":8080" listens on every interface.
	Addr string `yaml:"addr"`
	// LogLevel, key log_level, is debug, info, warn or error. Default info.
	// At debug every RPC call is logged (uri, session, duration, error URI;
	// never arguments).
	LogLevel Level `yaml:"log_level"`
	// LogFormat, key log_format, is text (log/slog's TextHandler) or json
	// (its JSONHandler), on stderr. Default text; "" is text too.
	LogFormat string `yaml:"log_format"`
	// ServerIdent, key server_ident, is sent in WELCOME. Default ""
	// (the router sends "tagwamp/<version>").
	ServerIdent string `yaml:"server_ident"`
	// DeliverToPublisher, key deliver_to_publisher, makes a PUBLISH without
	// an exclude element reach its own publisher
	// (docs/protocol.md#publish-options). Default false.
	DeliverToPublisher bool `yaml:"deliver_to_publisher"`
	// IOUring, key io_uring, writes one publication's frames to many
	// sessions with one io_uring submission instead of one writev each
	// (Linux, falling back to writev where io_uring is unavailable); off
	// is router.Options.DisableIOUring. Default on.
	IOUring bool `yaml:"io_uring"`
	// Poller, key poller, chooses what waits for readable sessions:
	// "default" (tagwamp's own epoll loop) or "easygo" (mailru/easygo's
	// epoll; Linux only); router.Options.Poller. Default "default".
	Poller string `yaml:"poller"`
	// Limits, key limits, bound sizes and times.
	Limits Limits `yaml:"limits"`
	// Middleware, key middleware, filters connections; nothing is filtered
	// by default.
	Middleware Middleware `yaml:"middleware"`
	// TrustedProxies, key trusted_proxies, lists the CIDR prefixes or
	// addresses of the reverse proxies in front of tagwamp: from them the
	// client IP is taken from X-Forwarded-For (router.Options.
	// TrustedProxies). Default empty: X-Forwarded-For is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLS, key tls, serves wss:// with a certificate. Default off.
	TLS TLS `yaml:"tls"`
	// Builtins, key builtins, registers the built-in procedures
	// (handlers.RegisterBuiltins). Default true.
	Builtins bool `yaml:"builtins"`
	// DebugAddr, key debug_addr, is the TCP address of the debug
	// listener: Prometheus metrics on /metrics and net/http/pprof on
	// /debug/pprof/. Default "" (off). It must not be reachable from
	// outside: profiles reveal memory contents and cost CPU.
	DebugAddr string `yaml:"debug_addr"`
	// API, key api, is the HTTP API on the main port (docs/http-api.md).
	API API `yaml:"api"`
	// Forward, key forward, forwards CALLs to HTTP services and asks HTTP
	// hooks about connections and subscriptions (forward.go). Default off.
	Forward Forward `yaml:"forward"`
	// Broker, key broker, joins a cluster of servers that share
	// publications (broker.go). Default off.
	Broker Broker `yaml:"broker"`

	// ReusePort, key reuse_port, sets SO_REUSEPORT on the listener, so
	// that several tagwamp processes on one host share addr and the
	// kernel spreads new connections among them (Linux only). Default
	// false. Without a broker each process delivers to its own sessions
	// only.
	ReusePort bool `yaml:"reuse_port"`
	// Procs, key procs, is how many serving processes tagwamp runs: above
	// 1, the command re-executes itself that many times with reuse_port
	// on, forwards SIGTERM and SIGINT to them and restarts one that dies
	// (docs/operations.md#many-processes-on-one-port). Default 1, at most
	// MaxProcs. Above 1 it needs broker.nats, unless procs_without_broker.
	Procs int `yaml:"procs"`
	// ProcsWithoutBroker, key procs_without_broker, allows procs above 1
	// without a broker: a publication then reaches only the sessions of
	// the process it was made on (calls are unaffected). Default false.
	ProcsWithoutBroker bool `yaml:"procs_without_broker"`

	// WebUI, key web_ui, serves the demo page (package web) on the main
	// port: / and its files, beside the HTTP API. Absent or null (the
	// default): on when addr is a loopback address, off otherwise; true
	// serves it on any address, false never.
	WebUI *bool `yaml:"web_ui"`

	// AuthorizeOpen, key authorizeOpen (Gomoob's name), lets connections
	// open without credentials. Default true. false requires ?key=&secret=
	// of an application, the key of an application with authorizeOpen, or
	// a ?token=, and at least one application.
	AuthorizeOpen bool `yaml:"authorizeOpen"`
	// Applications, key applications (Gomoob's format), are the keys and
	// secrets clients authenticate with. Default none. Authentication and
	// authorization are on when this is not empty or AuthorizeOpen is
	// false (AuthEnabled), and entirely off otherwise.
	Applications []Application `yaml:"applications"`
	// Auth, key auth, tunes authentication when it is on.
	Auth Auth `yaml:"auth"`
}

// Application is one entry of applications, an auth.Application.
type Application struct {
	// Key, key key, names the application. Required, unique.
	Key string `yaml:"key"`
	// Secret, key secret, at least auth.MinSecretLen bytes. Printed as
	// [redacted].
	Secret auth.Secret `yaml:"secret"`
	// AuthorizeOpen, key authorizeOpen, lets the key alone open a
	// connection (a public key for browsers). Default false.
	AuthorizeOpen bool `yaml:"authorizeOpen"`
	// Permissions, key permissions, of sessions that proved the secret.
	// Absent: everything (a trusted backend); {}: nothing.
	Permissions *auth.Permissions `yaml:"permissions"`
	// TokenPermissions, key token_permissions, of sessions opened with a
	// token this application signed. Absent: auth.anonymous.
	TokenPermissions *auth.Permissions `yaml:"token_permissions"`
	// CRA, key cra, salts the application's WAMP-CRA key
	// (auth.Application.CRA): salt (required), iterations (default 10000,
	// at most auth.MaxIterations) and keylen (default 32, at most
	// auth.MaxKeyLen). The key is derived once at startup and the
	// challenges tell clients these values; clients never choose them.
	// Absent: challenges are signed with the secret itself (unsalted).
	CRA *auth.SaltParams `yaml:"cra"`
	// API, key api, lists the HTTP API endpoints the application's secret
	// may use as an API key (publish, batch, call, presence, disconnect,
	// info, or *), besides the keys of api.keys: a backend then needs one
	// secret for WAMP and HTTP. Default none.
	API []string `yaml:"api"`
}

// Auth is the auth section; each field maps to the auth.Options field of
// the same name.
type Auth struct {
	// Anonymous, key anonymous, are the permissions of sessions without
	// credentials (and of public-key sessions). Default none.
	Anonymous auth.Permissions `yaml:"anonymous"`
	// AuthTimeout, key auth_timeout, closes a session that has not
	// authenticated (WAMP-CRA with an application key; as anonymous does
	// not count) within it. Default off.
	AuthTimeout Duration `yaml:"auth_timeout"`
	// ChallengeTTL, key challenge_ttl, is how long a WAMP-CRA challenge
	// may be answered. Default 1m.
	ChallengeTTL Duration `yaml:"challenge_ttl"`
	// FailDelay, key fail_delay, is the mean delay of a wrong WAMP-CRA
	// signature's answer. Default 800ms.
	FailDelay Duration `yaml:"fail_delay"`
	// TokenLeeway, key token_leeway, is the clock skew allowed on a
	// token's exp, nbf and iat. Default 5s; off allows none.
	TokenLeeway Duration `yaml:"token_leeway"`
	// ChallengeRate, key challenge_rate, limits WAMP-CRA challenges
	// (authreq calls) per client IP (an IPv6 client by its /64); over it
	// authreq answers http://tagwamp.dev/error#rate-limited. Default 100
	// per second, burst 1000; per_second 0 disables it.
	ChallengeRate Rate `yaml:"challenge_rate"`
}

// AuthEnabled reports whether the configuration turns authentication on:
// applications are configured or authorizeOpen is false.
func (c *Config) AuthEnabled() bool { return !c.AuthorizeOpen || len(c.Applications) > 0 }

// AuthOptions returns the auth.Options c describes.
func (c *Config) AuthOptions(logger *slog.Logger) auth.Options {
	o := auth.Options{
		RequireCredentials: !c.AuthorizeOpen,
		Anonymous:          c.Auth.Anonymous,
		AuthTimeout:        time.Duration(c.Auth.AuthTimeout),
		ChallengeTTL:       time.Duration(c.Auth.ChallengeTTL),
		FailDelay:          time.Duration(c.Auth.FailDelay),
		TokenLeeway:        time.Duration(c.Auth.TokenLeeway), // Off is negative: none
		ChallengeRate:      router.RateLimit{PerSecond: c.Auth.ChallengeRate.PerSecond, Burst: c.Auth.ChallengeRate.Burst},
		Logger:             logger,
	}
	if c.Auth.ChallengeRate.PerSecond == 0 {
		o.ChallengeRate.PerSecond = -1 // the file's 0 is off; auth's 0 is its default
	}
	if c.Auth.AuthTimeout == Off {
		o.AuthTimeout = 0
	}
	for _, a := range c.Applications {
		o.Applications = append(o.Applications, auth.Application{Key: a.Key, Secret: a.Secret,
			AuthorizeOpen: a.AuthorizeOpen, Permissions: a.Permissions, TokenPermissions: a.TokenPermissions, CRA: a.CRA})
	}
	return o
}

// Limits is the limits section. Each field maps to the router.Options
// field of the same name.
type Limits struct {
	// MaxMessageSize, key max_message_size, in bytes. Default 1048576.
	MaxMessageSize int `yaml:"max_message_size"`
	// MaxQueueBytes, key max_queue_bytes, in bytes. Default 4194304.
	MaxQueueBytes int `yaml:"max_queue_bytes"`
	// Workers, key workers. Default 0: 64 per CPU.
	Workers int `yaml:"workers"`
	// HandshakeTimeout, key handshake_timeout, from the accept. Default 10s.
	HandshakeTimeout Duration `yaml:"handshake_timeout"`
	// WriteTimeout, key write_timeout. Default 10s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// PingInterval, key ping_interval. Default 30s; off disables pings.
	PingInterval Duration `yaml:"ping_interval"`
	// PingTimeout, key ping_timeout. Default 15s.
	PingTimeout Duration `yaml:"ping_timeout"`
	// CallTimeout, key call_timeout. Default 30s; off disables it.
	CallTimeout Duration `yaml:"call_timeout"`
	// ShutdownTimeout, key shutdown_timeout, bounds the graceful shutdown
	// on SIGTERM or SIGINT: sessions get what is queued for them and a
	// 1001 close until then, and are cut after. Default 10s. A second
	// signal stops the process at once.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// MaxHandshakes, key max_handshakes. Default 0: 128 per CPU.
	MaxHandshakes int `yaml:"max_handshakes"`
	// HandshakeFirstByteTimeout, key handshake_first_byte_timeout, closes
	// a connection that sends nothing for so long after its accept.
	// Default 3s; off leaves only handshake_timeout.
	HandshakeFirstByteTimeout Duration `yaml:"handshake_first_byte_timeout"`
	// TCPKeepalive, key tcp_keepalive, is the idle time before the kernel
	// sends TCP keepalive probes on an accepted connection, and their
	// interval. Default 15s (Go's default); off sends none, which suits
	// many idle sessions with ping_interval on (each probe is a packet and
	// an answer per connection).
	TCPKeepalive Duration `yaml:"tcp_keepalive"`
	// MaxHandshakesPerIP, key max_handshakes_per_ip, bounds the connections
	// of one peer address between accept and session. Default 4096; 0:
	// no limit.
	MaxHandshakesPerIP int `yaml:"max_handshakes_per_ip"`
	// MaxRequestLine, key max_request_line, in bytes (414 past it).
	// Default 8192.
	MaxRequestLine int `yaml:"max_request_line"`
	// MaxHeaderLine, key max_header_line, in bytes (431 past it).
	// Default 16384.
	MaxHeaderLine int `yaml:"max_header_line"`
	// MaxHandshakeBytes, key max_handshake_bytes: the whole upgrade
	// request, in bytes (431 past it). Default 65536.
	MaxHandshakeBytes int `yaml:"max_handshake_bytes"`
	// MaxConns, key max_conns. Default 0: no limit.
	MaxConns int `yaml:"max_conns"`
	// MaxConnsPerIP, key max_conns_per_ip. Default 0: no limit.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// RetryAfter, key retry_after. Default 5s.
	RetryAfter Duration `yaml:"retry_after"`
	// MaxSubscriptions, key max_subscriptions. Default 1000; 0 disables
	// the limit.
	MaxSubscriptions int `yaml:"max_subscriptions"`
	// MaxPrefixes, key max_prefixes. Default 256; 0 disables the limit.
	MaxPrefixes int `yaml:"max_prefixes"`
	// MessageRate, key message_rate. Default 10000 per second, burst
	// 20000; per_second 0 disables it.
	MessageRate Rate `yaml:"message_rate"`
	// ByteRate, key byte_rate. Default 16777216 per second, burst
	// 33554432; per_second 0 disables it.
	ByteRate Rate `yaml:"byte_rate"`
	// MaxURILength, key max_uri_length. Default 4096; 0 disables it.
	MaxURILength int `yaml:"max_uri_length"`
	// MaxTagsPerTopic, key max_tags_per_topic. Default 32; 0 disables it.
	MaxTagsPerTopic int `yaml:"max_tags_per_topic"`
	// MaxMessageElements, key max_message_elements. Default 4096; 0
	// disables it.
	MaxMessageElements int `yaml:"max_message_elements"`
	// MaxPublishIDs, key max_publish_ids. Default 4096; 0 disables it.
	MaxPublishIDs int `yaml:"max_publish_ids"`
	// MaxRunningCalls, key max_running_calls. Default 4096.
	MaxRunningCalls int `yaml:"max_running_calls"`
	// MaxBufferedInput, key max_buffered_input. Default 268435456 (256
	// MiB); 0 disables it.
	MaxBufferedInput int `yaml:"max_buffered_input"`
	// MaxQueuedTotal, key max_queued_total. Default 536870912 (512 MiB);
	// 0 disables it.
	MaxQueuedTotal int `yaml:"max_queued_total"`
	// FrameTimeout, key frame_timeout. Default 20s; off disables it.
	FrameTimeout Duration `yaml:"frame_timeout"`
}

// Rate is a token bucket (router.RateLimit).
type Rate struct {
	// PerSecond, key per_second, is the refill rate; 0 turns the limit off.
	PerSecond int `yaml:"per_second"`
	// Burst, key burst, is the bucket size; 0 means twice per_second.
	Burst int `yaml:"burst"`
}

// TLS is the tls section: when both files are set, tagwamp serves wss://
// only.
type TLS struct {
	// CertFile, key cert_file, is the PEM certificate chain, leaf first.
	CertFile string `yaml:"cert_file"`
	// KeyFile, key key_file, is the PEM private key of the leaf.
	KeyFile string `yaml:"key_file"`
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Middleware is the middleware section.
type Middleware struct {
	// IP, key ip, filters connections by remote address.
	IP IPRules `yaml:"ip"`
	// Origin, key origin, filters upgrades by Origin header.
	Origin OriginRules `yaml:"origin"`
}

// IPRules configure a handlers.IPFilter; it is installed only when one of
// the lists is not empty.
type IPRules struct {
	// Allow, key allow, lists CIDR prefixes or addresses; empty allows
	// every address not denied.
	Allow []string `yaml:"allow"`
	// Deny, key deny, lists CIDR prefixes or addresses; deny wins.
	Deny []string `yaml:"deny"`
}

// OriginRules configure a handlers.OriginCheck; it is installed only when
// Allow is not empty or Require is set.
type OriginRules struct {
	// Allow, key allow, lists origins: https://app.example.com,
	// https://*.example.com or *. Empty allows any origin.
	Allow []string `yaml:"allow"`
	// Require, key require, refuses upgrades without an Origin header
	// (non-browser clients). Default false.
	Require bool `yaml:"require"`
}

// DefaultAddr is the address tagwamp listens on with no configuration.
const DefaultAddr = "127.0.0.1:8080"

// MaxProcs bounds procs.
const MaxProcs = 1024

// Default returns the configuration used with no file: the defaults the
// field comments give.
func Default() Config {
	return Config{
		Addr:          DefaultAddr,
		Procs:         1,
		LogLevel:      Level(slog.LevelInfo),
		LogFormat:     LogText,
		Builtins:      true,
		IOUring:       true,
		Poller:        "default",
		API:           API{Enabled: true, Keys: []APIKey{}, MaxBody: 1 << 20, Rate: Rate{PerSecond: 1000, Burst: 2000}},
		AuthorizeOpen: true,
		Auth: Auth{
			AuthTimeout:   Off,
			ChallengeTTL:  Duration(time.Minute),
			FailDelay:     Duration(800 * time.Millisecond),
			TokenLeeway:   Duration(5 * time.Second),
			ChallengeRate: Rate{PerSecond: 100, Burst: 1000},
		},
		Limits: Limits{
			MaxMessageSize:   1 << 20,
			MaxQueueBytes:    4 << 20,
			HandshakeTimeout: Duration(10 * time.Second),
			WriteTimeout:     Duration(10 * time.Second),

			HandshakeFirstByteTimeout: Duration(3 * time.Second),
			TCPKeepalive:              Duration(15 * time.Second),
			MaxHandshakesPerIP:        4096,
			MaxRequestLine:            8 << 10,
			MaxHeaderLine:             16 << 10,
			MaxHandshakeBytes:         64 << 10,

			PingInterval:     Duration(30 * time.Second),
			PingTimeout:      Duration(15 * time.Second),
			CallTimeout:      Duration(30 * time.Second),
			ShutdownTimeout:  Duration(10 * time.Second),
			RetryAfter:       Duration(5 * time.Second),
			MaxSubscriptions: 1000,
			MaxPrefixes:      256,
			MessageRate:      Rate{PerSecond: 10_000, Burst: 20_000},
			ByteRate:         Rate{PerSecond: 16 << 20, Burst: 32 << 20},

			MaxURILength:       4096,
			MaxTagsPerTopic:    32,
			MaxMessageElements: 4096,
			MaxPublishIDs:      4096,
			MaxRunningCalls:    4096,
			MaxBufferedInput:   256 << 20,
			MaxQueuedTotal:     512 << 20,
			FrameTimeout:       Duration(20 * time.Second),
		},
	}
}

// Load reads and validates the file at path; keys it leaves out keep their
// defaults.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(data)
}

// Parse decodes and validates a configuration document; keys it leaves out
// keep their defaults. An empty document is the default configuration.
func Parse(data []byte) (Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&cfg)
	var te *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF):
	case errors.As(err, &te):
		return Config{}, typeErrors(data, te)
	default:
		return Config{}, fmt.Errorf("config: %w", err)
	}
	// A second document would be ignored silently: refuse it instead.
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("config: the file holds more than one YAML document (a second \"---\"); put every key in one")
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks the values that decoded but are out of range, and
// returns every problem found, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: "+format, append([]any{key}, args...)...))
	}
	c.validateAPI(bad)
	if c.Addr == "" {
		bad("addr", "must not be empty")
	}
	c.validateProcs(bad)
	if c.Poller != "default" && c.Poller != "easygo" {
		bad("poller", "must be default or easygo, not %q", c.Poller)
	}
	switch slog.Level(c.LogLevel) {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
	default:
		bad("log_level", "must be debug, info, warn or error")
	}
	validateLogFormat(bad, c.LogFormat)
	l := &c.Limits
	if l.MaxMessageSize <= 0 {
		bad("limits.max_message_size", "must be positive")
	}
	if l.MaxQueueBytes <= 0 {
		bad("limits.max_queue_bytes", "must be positive")
	}
	if l.MaxRunningCalls <= 0 {
		bad("limits.max_running_calls", "must be positive")
	}
	if l.Workers < 0 {
		bad("limits.workers", "must be 0 (64 per CPU) or positive")
	}
	for _, n := range []struct {
		key string
		v   int
	}{
		{"limits.max_request_line", l.MaxRequestLine},
		{"limits.max_header_line", l.MaxHeaderLine},
		{"limits.max_handshake_bytes", l.MaxHandshakeBytes},
	} {
		if n.v <= 0 {
			bad(n.key, "must be positive")
		}
	}
	for _, n := range []struct {
		key string
		v   int
	}{
		{"limits.max_handshakes", l.MaxHandshakes},
		{"limits.max_handshakes_per_ip", l.MaxHandshakesPerIP},
		{"limits.max_conns", l.MaxConns},
		{"limits.max_conns_per_ip", l.MaxConnsPerIP},
		{"limits.max_subscriptions", l.MaxSubscriptions},
		{"limits.max_prefixes", l.MaxPrefixes},
		{"limits.message_rate.per_second", l.MessageRate.PerSecond},
		{"limits.message_rate.burst", l.MessageRate.Burst},
		{"limits.byte_rate.per_second", l.ByteRate.PerSecond},
		{"limits.byte_rate.burst", l.ByteRate.Burst},
		{"limits.max_uri_length", l.MaxURILength},
		{"limits.max_tags_per_topic", l.MaxTagsPerTopic},
		{"limits.max_message_elements", l.MaxMessageElements},
		{"limits.max_publish_ids", l.MaxPublishIDs},
		{"limits.max_buffered_input", l.MaxBufferedInput},
		{"limits.max_queued_total", l.MaxQueuedTotal},
	} {
		if n.v < 0 {
			bad(n.key, "must be 0 or positive")
		}
	}
	for _, d := range []struct {
		key   string
		v     Duration
		offOK bool
	}{
		{"limits.handshake_timeout", l.HandshakeTimeout, false},
		{"limits.handshake_first_byte_timeout", l.HandshakeFirstByteTimeout, true},
		{"limits.tcp_keepalive", l.TCPKeepalive, true},
		{"limits.write_timeout", l.WriteTimeout, false},
		{"limits.ping_interval", l.PingInterval, true},
		{"limits.ping_timeout", l.PingTimeout, false},
		{"limits.call_timeout", l.CallTimeout, true},
		{"limits.retry_after", l.RetryAfter, false},
		{"limits.shutdown_timeout", l.ShutdownTimeout, false},
		{"limits.frame_timeout", l.FrameTimeout, true},
	} {
		checkDuration(bad, d.key, d.v, d.offOK)
	}
	ip := c.Middleware.IP
	if _, err := handlers.NewIPFilter(ip.Allow, ip.Deny); err != nil {
		bad("middleware.ip", "%v", strings.TrimPrefix(err.Error(), "handlers: ip filter: "))
	}
	if _, err := ParsePrefixes(c.TrustedProxies); err != nil {
		bad("trusted_proxies", "%v", err)
	}
	if t := c.TLS; t.Enabled() && (t.CertFile == "" || t.KeyFile == "") {
		bad("tls", "cert_file and key_file go together")
	}
	o := c.Middleware.Origin
	if _, err := handlers.NewOriginCheck(o.Allow, o.Require); err != nil {
		bad("middleware.origin", "%v", strings.TrimPrefix(err.Error(), "handlers: origin check: "))
	}
	c.validateAuth(bad)
	c.validateForward(bad)
	c.validateBroker(bad)
	return errors.Join(errs...)
}

// API is the api section. The HTTP API (publish, batch, call, presence,
// disconnect, info, healthz, readyz) is served on the main port. With no
// keys it is open, and so it is served only when addr is a loopback
// address; with keys, every request needs one (Authorization: Bearer).
type API struct {
	// Enabled, key enabled, turns the API off when false. Default true.
	Enabled bool `yaml:"enabled"`
	// Keys, key keys, authorize requests, each for the endpoints it lists
	// (publish, batch, call, presence, disconnect, info, or * for all).
	// Default none.
	Keys []APIKey `yaml:"keys"`
	// MaxBody, key max_body, bounds a request body in bytes. Default
	// 1048576.
	MaxBody int `yaml:"max_body"`
	// Rate, key rate, limits the requests of one client address. Default
	// 1000 per second, burst 2000; per_second 0 turns it off.
	Rate Rate `yaml:"rate"`
}

// APIKey is one key of the api section.
type APIKey struct {
	// Name, key name, names the key in logs.
	Name string `yaml:"name"`
	// Key, key key, is the secret (at least 16 bytes); it never appears in
	// logs.
	Key auth.Secret `yaml:"key"`
	// Endpoints, key endpoints, lists what the key may use.
	Endpoints []string `yaml:"endpoints"`
}

// validateAPI checks the api section.
func (c *Config) validateAPI(bad func(key, format string, args ...any)) {
	if c.API.MaxBody <= 0 {
		bad("api.max_body", "must be positive")
	}
	if c.API.Rate.PerSecond < 0 || c.API.Rate.Burst < 0 {
		bad("api.rate", "per_second and burst must be 0 or positive")
	}
	for i, a := range c.Applications {
		for _, e := range a.API {
			if !validEndpoint(e) {
				bad(fmt.Sprintf("applications[%d].api", i), "unknown endpoint %q: publish, batch, call, presence, disconnect, info or *", e)
			}
		}
	}
	for i, k := range c.API.Keys {
		key := fmt.Sprintf("api.keys[%d]", i)
		if k.Name == "" {
			bad(key+".name", "must not be empty")
		}
		if len(k.Key.Reveal()) < auth.MinSecretLen {
			bad(key+".key", "must be at least %d bytes (openssl rand -base64 24)", auth.MinSecretLen)
		}
		if len(k.Endpoints) == 0 {
			bad(key+".endpoints", "must list at least one endpoint (publish, batch, call, presence, disconnect, info, or *)")
		}
		for _, e := range k.Endpoints {
			if !validEndpoint(e) {
				bad(key+".endpoints", "unknown endpoint %q: publish, batch, call, presence, disconnect, info or *", e)
			}
		}
	}
}

// validEndpoint reports whether e names an HTTP API endpoint, or all.
func validEndpoint(e string) bool {
	switch e {
	case "publish", "batch", "call", "presence", "disconnect", "info", "*":
		return true
	}
	return false
}

// APIKeys returns the HTTP API's keys: those of api.keys, then one per
// application with an api list, named after the application and equal to
// its secret.
func (c *Config) APIKeys() []APIKey {
	keys := append([]APIKey(nil), c.API.Keys...)
	for _, a := range c.Applications {
		if len(a.API) > 0 {
			keys = append(keys, APIKey{Name: "application " + a.Key, Key: a.Secret, Endpoints: a.API})
		}
	}
	return keys
}

// validateAuth checks authorizeOpen, applications and auth.
func (c *Config) validateAuth(bad func(key, format string, args ...any)) {
	if !c.AuthorizeOpen && len(c.Applications) == 0 {
		bad("authorizeOpen", "false requires at least one application under applications")
	}
	seen := make(map[string]bool, len(c.Applications))
	for i, a := range c.Applications {
		key := fmt.Sprintf("applications[%d]", i)
		switch {
		case a.Key == "":
			bad(key+".key", "must not be empty")
		case seen[a.Key]:
			bad(key+".key", "duplicate key %q", a.Key)
		}
		seen[a.Key] = true
		if len(a.Secret) < auth.MinSecretLen {
			bad(key+".secret", "must be at least %d bytes", auth.MinSecretLen)
		}
		if a.Permissions != nil {
			if err := a.Permissions.Validate(); err != nil {
				bad(key+".permissions", "%v", err)
			}
		}
		if a.TokenPermissions != nil {
			if err := a.TokenPermissions.Validate(); err != nil {
				bad(key+".token_permissions", "%v", err)
			}
		}
		if a.CRA != nil {
			validateCRA(bad, key+".cra", a.CRA)
		}
	}
	if err := c.Auth.Anonymous.Validate(); err != nil {
		bad("auth.anonymous", "%v", err)
	}
	if c.Auth.ChallengeRate.PerSecond < 0 {
		bad("auth.challenge_rate.per_second", "must be 0 or positive")
	}
	if c.Auth.ChallengeRate.Burst < 0 {
		bad("auth.challenge_rate.burst", "must be 0 or positive")
	}
	for _, d := range []struct {
		key   string
		v     Duration
		offOK bool
	}{
		{"auth.auth_timeout", c.Auth.AuthTimeout, true},
		{"auth.challenge_ttl", c.Auth.ChallengeTTL, false},
		{"auth.fail_delay", c.Auth.FailDelay, false},
		{"auth.token_leeway", c.Auth.TokenLeeway, true},
	} {
		checkDuration(bad, d.key, d.v, d.offOK)
	}
}

// validateCRA checks an application's cra section; 0 (absent) takes the
// default. The bounds are auth.New's, named here by key.
func validateCRA(bad func(key, format string, args ...any), key string, p *auth.SaltParams) {
	if p.Salt == "" {
		bad(key+".salt", "must not be empty (leave cra out for an unsalted key)")
	}
	if p.Iterations < 0 || p.Iterations > auth.MaxIterations {
		bad(key+".iterations", "must be from 1 to %d (absent: %d)", auth.MaxIterations, auth.DefaultIterations)
	}
	if p.KeyLen < 0 || p.KeyLen > auth.MaxKeyLen {
		bad(key+".keylen", "must be from 1 to %d (absent: %d)", auth.MaxKeyLen, auth.DefaultKeyLen)
	}
}

// ParsePrefixes parses a list of CIDR prefixes or bare addresses (a /32 or
// a /128) into netip prefixes; an error names the first bad entry.
func ParsePrefixes(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("[%d] %q is not an IP address or CIDR prefix", i, e)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// checkDuration reports a duration that is not positive; off is allowed
// only where offOK.
func checkDuration(bad func(key, format string, args ...any), key string, v Duration, offOK bool) {
	switch {
	case v == Off && !offOK:
		bad(key, "cannot be off")
	case v <= 0 && v != Off && offOK:
		bad(key, "must be positive, or off")
	case v <= 0 && v != Off:
		bad(key, "must be positive")
	}
}
