package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tagwamp/tagwamp/handlers"
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
	// ServerIdent, key server_ident, is sent in WELCOME. Default ""
	// (the router sends "tagwamp/<version>").
	ServerIdent string `yaml:"server_ident"`
	// DeliverToPublisher, key deliver_to_publisher, makes a PUBLISH without
	// an exclude element reach its own publisher (wamp1.md §2). Default
	// false.
	DeliverToPublisher bool `yaml:"deliver_to_publisher"`
	// Limits, key limits, bound sizes and times.
	Limits Limits `yaml:"limits"`
	// Middleware, key middleware, filters connections; nothing is filtered
	// by default.
	Middleware Middleware `yaml:"middleware"`
	// Builtins, key builtins, registers the built-in procedures
	// (handlers.RegisterBuiltins). Default true.
	Builtins bool `yaml:"builtins"`
	// DebugAddr, key debug_addr, is the TCP address of the debug
	// listener: Prometheus metrics on /metrics and net/http/pprof on
	// /debug/pprof/. Default "" (off). It must not be reachable from
	// outside: profiles reveal memory contents and cost CPU.
	DebugAddr string `yaml:"debug_addr"`
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
	// HandshakeTimeout, key handshake_timeout. Default 10s.
	HandshakeTimeout Duration `yaml:"handshake_timeout"`
	// WriteTimeout, key write_timeout. Default 10s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// PingInterval, key ping_interval. Default 30s; off disables pings.
	PingInterval Duration `yaml:"ping_interval"`
	// PingTimeout, key ping_timeout. Default 15s.
	PingTimeout Duration `yaml:"ping_timeout"`
	// CallTimeout, key call_timeout. Default 30s; off disables it.
	CallTimeout Duration `yaml:"call_timeout"`
}

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

// Default returns the configuration used with no file: the defaults the
// field comments give.
func Default() Config {
	return Config{
		Addr:     DefaultAddr,
		LogLevel: Level(slog.LevelInfo),
		Builtins: true,
		Limits: Limits{
			MaxMessageSize:   1 << 20,
			MaxQueueBytes:    4 << 20,
			HandshakeTimeout: Duration(10 * time.Second),
			WriteTimeout:     Duration(10 * time.Second),
			PingInterval:     Duration(30 * time.Second),
			PingTimeout:      Duration(15 * time.Second),
			CallTimeout:      Duration(30 * time.Second),
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
	if c.Addr == "" {
		bad("addr", "must not be empty")
	}
	switch slog.Level(c.LogLevel) {
	case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
	default:
		bad("log_level", "must be debug, info, warn or error")
	}
	l := &c.Limits
	if l.MaxMessageSize <= 0 {
		bad("limits.max_message_size", "must be positive")
	}
	if l.MaxQueueBytes <= 0 {
		bad("limits.max_queue_bytes", "must be positive")
	}
	if l.Workers < 0 {
		bad("limits.workers", "must be 0 (64 per CPU) or positive")
	}
	for _, d := range []struct {
		key   string
		v     Duration
		offOK bool
	}{
		{"limits.handshake_timeout", l.HandshakeTimeout, false},
		{"limits.write_timeout", l.WriteTimeout, false},
		{"limits.ping_interval", l.PingInterval, true},
		{"limits.ping_timeout", l.PingTimeout, false},
		{"limits.call_timeout", l.CallTimeout, true},
	} {
		switch {
		case d.v == Off && !d.offOK:
			bad(d.key, "cannot be off")
		case d.v <= 0 && d.v != Off && d.offOK:
			bad(d.key, "must be positive, or off")
		case d.v <= 0 && d.v != Off:
			bad(d.key, "must be positive")
		}
	}
	ip := c.Middleware.IP
	if _, err := handlers.NewIPFilter(ip.Allow, ip.Deny); err != nil {
		bad("middleware.ip", "%v", strings.TrimPrefix(err.Error(), "handlers: ip filter: "))
	}
	o := c.Middleware.Origin
	if _, err := handlers.NewOriginCheck(o.Allow, o.Require); err != nil {
		bad("middleware.origin", "%v", strings.TrimPrefix(err.Error(), "handlers: origin check: "))
	}
	return errors.Join(errs...)
}
