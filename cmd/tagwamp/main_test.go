package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// writeFile writes content to a temporary file and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tagwamp.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	file := writeFile(t, "addr: 10.0.0.1:9000\nlog_level: warn\nlimits:\n  max_message_size: 100\n  workers: 3\n")
	tests := []struct {
		name    string
		args    []string
		check   func(c config.Config) bool
		wantErr string
	}{
		{"zero config", nil, func(c config.Config) bool { return reflect.DeepEqual(c, config.Default()) }, ""},
		{"file", []string{"-config", file}, func(c config.Config) bool {
			return c.Addr == "10.0.0.1:9000" && c.LogLevel == config.Level(slog.LevelWarn) &&
				c.Limits.MaxMessageSize == 100 && c.Limits.Workers == 3
		}, ""},
		{"flags override the file", []string{"-config", file, "-addr", ":1", "-log-level", "debug",
			"-max-message-size", "7", "-deliver-to-publisher"}, func(c config.Config) bool {
			return c.Addr == ":1" && c.LogLevel == config.Level(slog.LevelDebug) &&
				c.Limits.MaxMessageSize == 7 && c.DeliverToPublisher && c.Limits.Workers == 3
		}, ""},
		{"unset flags keep the file", []string{"-config", file, "-deliver-to-publisher=false"}, func(c config.Config) bool {
			return c.Addr == "10.0.0.1:9000" && c.Limits.MaxMessageSize == 100
		}, ""},
		{"debug listener flag", []string{"-config", file, "-debug-addr", "127.0.0.1:6060"}, func(c config.Config) bool {
			return c.DebugAddr == "127.0.0.1:6060" && c.Addr == "10.0.0.1:9000"
		}, ""},
		{"bad log level flag", []string{"-log-level", "loud"}, nil, `-log-level: invalid log level "loud"`},
		{"bad size flag", []string{"-max-message-size", "0"}, nil, "limits.max_message_size: must be positive"},
		{"unknown flag", []string{"-port", "1"}, nil, "flag provided but not defined: -port"},
		{"extra argument", []string{"serve"}, nil, `unexpected argument "serve"`},
		{"missing file", []string{"-config", "/nonexistent/tagwamp.yaml"}, nil, "-config /nonexistent/tagwamp.yaml: config:"},
		{"bad file", []string{"-config", writeFile(t, "limits:\n  ping_interval: soon\n")}, nil, "config: limits.ping_interval: line 2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			c, err := loadConfig(tt.args, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if !errors.As(err, new(usageError)) {
					t.Fatalf("err = %v is not a usage error (exit 2)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}

func TestLoadConfigHelp(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := loadConfig([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-max-message-size") {
		t.Fatalf("usage %q lacks the flags", stderr.String())
	}
}

func TestOptions(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	tests := []struct {
		name   string
		edit   func(c *config.Config)
		filter int // Filters count
		rpcMW  int // RPCMiddleware count
		ext    int // Extensions count
		check  func(o router.Options) bool
		errMsg string
	}{
		{name: "default runs no middleware", check: func(o router.Options) bool {
			return o.MaxMessageSize == 1<<20 && o.MaxQueueBytes == 4<<20 && o.Workers == 0 &&
				o.HandshakeTimeout == 10*time.Second && o.WriteTimeout == 10*time.Second &&
				o.PingInterval == 30*time.Second && o.PingTimeout == 15*time.Second &&
				o.CallTimeout == 30*time.Second && !o.DeliverToPublisher && o.ServerIdent == "" &&
				o.HandshakeFirstByteTimeout == 3*time.Second && o.MaxHandshakesPerIP == 4096 &&
				o.MaxRequestLine == 8<<10 && o.MaxHeaderLine == 16<<10 && o.MaxHandshakeBytes == 64<<10 &&
				o.Logger == logger && o.RPC != nil && o.Topics == nil
		}},
		{name: "limits and flags", edit: func(c *config.Config) {
			c.ServerIdent = "x/1"
			c.DeliverToPublisher = true
			c.Limits.Workers = 5
			c.Limits.PingInterval = config.Off
			c.Limits.CallTimeout = config.Off
			c.Limits.HandshakeFirstByteTimeout = config.Off
			c.Limits.MaxHandshakesPerIP = 0
		}, check: func(o router.Options) bool {
			return o.ServerIdent == "x/1" && o.DeliverToPublisher && o.Workers == 5 &&
				o.PingInterval < 0 && o.CallTimeout < 0 &&
				o.HandshakeFirstByteTimeout < 0 && o.MaxHandshakesPerIP < 0
		}},
		{name: "debug logs calls", edit: func(c *config.Config) { c.LogLevel = config.Level(slog.LevelDebug) }, rpcMW: 1},
		{name: "ip allow", edit: func(c *config.Config) { c.Middleware.IP.Allow = []string{"10.0.0.0/8"} }, filter: 1},
		{name: "ip deny", edit: func(c *config.Config) { c.Middleware.IP.Deny = []string{"10.0.0.1"} }, filter: 1},
		{name: "origin allow", edit: func(c *config.Config) { c.Middleware.Origin.Allow = []string{"*"} }, filter: 1},
		{name: "origin require", edit: func(c *config.Config) { c.Middleware.Origin.Require = true }, filter: 1},
		{name: "applications turn auth on", edit: func(c *config.Config) {
			c.Applications = []config.Application{{Key: "a", Secret: "0123456789abcdef"}}
		}, ext: 1, check: func(o router.Options) bool {
			e := o.Extensions[0]
			return e.Filter != nil && e.RPC != nil && e.Topics != nil && e.Hook != nil
		}},
		{name: "auth and the call logger", edit: func(c *config.Config) {
			c.AuthorizeOpen = false
			c.Applications = []config.Application{{Key: "a", Secret: "0123456789abcdef"}}
			c.LogLevel = config.Level(slog.LevelDebug)
		}, rpcMW: 1, ext: 1},
		{name: "every filter", edit: func(c *config.Config) {
			c.Middleware.IP.Deny = []string{"10.0.0.1"}
			c.Middleware.Origin.Require = true
			c.Applications = []config.Application{{Key: "a", Secret: "0123456789abcdef"}}
		}, filter: 2, ext: 1},
		{name: "bad application", edit: func(c *config.Config) {
			c.Applications = []config.Application{{Key: "a", Secret: "short"}}
		}, errMsg: "secret shorter than 16 bytes"},
		{name: "default limits", check: func(o router.Options) bool {
			return o.MaxHandshakes == 0 && o.MaxConns == 0 && o.MaxConnsPerIP == 0 &&
				o.RetryAfter == 5*time.Second && o.MaxSubscriptions == 1000 && o.MaxPrefixes == 256 &&
				o.MessageRate == router.RateLimit{PerSecond: 10000, Burst: 20000} &&
				o.ByteRate == router.RateLimit{PerSecond: 16 << 20, Burst: 32 << 20} &&
				len(o.TrustedProxies) == 0 && o.TLSConfig == nil
		}},
		{name: "limits set and zero limits off", edit: func(c *config.Config) {
			c.Limits.MaxHandshakes = 9
			c.Limits.MaxConns = 100
			c.Limits.MaxConnsPerIP = 10
			c.Limits.MaxSubscriptions = 0
			c.Limits.MaxPrefixes = 0
			c.Limits.MessageRate = config.Rate{}
			c.Limits.ByteRate = config.Rate{PerSecond: 1000, Burst: 5000}
			c.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.1"}
		}, check: func(o router.Options) bool {
			return o.MaxHandshakes == 9 && o.MaxConns == 100 && o.MaxConnsPerIP == 10 &&
				o.MaxSubscriptions < 0 && o.MaxPrefixes < 0 && o.MessageRate.PerSecond < 0 &&
				o.ByteRate == router.RateLimit{PerSecond: 1000, Burst: 5000} &&
				fmt.Sprint(o.TrustedProxies) == "[10.0.0.0/8 192.0.2.1/32]"
		}},
		{name: "ip filter behind proxies is the same filter", edit: func(c *config.Config) {
			c.Middleware.IP.Deny = []string{"10.0.0.1"}
			c.TrustedProxies = []string{"127.0.0.1"}
		}, filter: 1},
		{name: "missing TLS files", edit: func(c *config.Config) {
			c.TLS = config.TLS{CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"}
		}, errMsg: "tls: open /nonexistent/c.pem"},
		{name: "bad CIDR", edit: func(c *config.Config) { c.Middleware.IP.Deny = []string{"x"} }, errMsg: `deny[0] "x"`},
		{name: "bad origin", edit: func(c *config.Config) { c.Middleware.Origin.Allow = []string{"x"} }, errMsg: `allow[0] "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			o, mux, err := options(cfg, logger, nil)
			if tt.errMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMsg) {
					t.Fatalf("err = %v, want %q", err, tt.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.RPC != router.RPCHandler(mux) {
				t.Errorf("RPC is not the returned mux")
			}
			if len(o.Filters) != tt.filter || len(o.RPCMiddleware) != tt.rpcMW || len(o.Topics) != 0 ||
				len(o.SessionHooks) != tt.rpcMW || len(o.Extensions) != tt.ext {
				// At debug level the call logger comes with the session logger.
				t.Errorf("plug points filters=%d rpc=%d topics=%d hooks=%d extensions=%d; want %d %d 0 %d %d",
					len(o.Filters), len(o.RPCMiddleware), len(o.Topics), len(o.SessionHooks), len(o.Extensions),
					tt.filter, tt.rpcMW, tt.rpcMW, tt.ext)
			}
			if tt.check != nil && !tt.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logging goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is the command started by startRun.
type running struct {
	addr  net.Addr // where it serves
	debug net.Addr // its debug listener, or nil
	logs  *syncBuffer
	stop  func() error // stops it as SIGTERM does and returns run's result
}

// startRun runs the command with args (on a free loopback port unless they
// give -addr) and waits
// until it listens. The test's cleanup stops it if the test did not, and
// fails the test if that stop fails.
func startRun(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{logs: &syncBuffer{}}
	type addrs struct{ addr, debug net.Addr }
	addrc := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() {
		if !slices.Contains(args, "-addr") {
			args = append(args, "-addr", "127.0.0.1:0")
		}
		done <- run(ctx, args, r.logs,
			func(a, d net.Addr) { addrc <- addrs{a, d} })
	}()
	var once sync.Once
	var err error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = errors.New("no shutdown after 10s")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("run = %v\n%s", err, r.logs)
		}
	})
	select {
	case a := <-addrc:
		r.addr, r.debug = a.addr, a.debug
	case err := <-done:
		t.Fatalf("run returned before listening: %v\n%s", err, r.logs)
	case <-time.After(5 * time.Second):
		t.Fatalf("not listening after 5s\n%s", r.logs)
	}
	return r
}

// TestRun starts the command on a loopback port from a configuration file,
// calls the built-in procedures over a real socket, and shuts it down as a
// signal would.
func TestRun(t *testing.T) {
	file := writeFile(t, "server_ident: test/1\nmiddleware:\n  ip:\n    allow: [127.0.0.0/8, \"::1\"]\n")
	r := startRun(t, "-config", file, "-log-level", "debug")
	addr, stderr := r.addr, r.logs

	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(cctx, "ws://"+addr.String()+"/")
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, stderr.String())
	}
	defer c.Close()
	if got := c.ServerIdent(); got != "test/1" {
		t.Errorf("server ident %q, want test/1", got)
	}

	var info handlers.ServerInfoResult
	if err := c.Call(cctx, handlers.ProcServerInfo, &info); err != nil {
		t.Fatalf("server-info: %v", err)
	}
	if info.Server != "tagwamp/"+router.Version || info.Sessions != 1 || info.Go == "" {
		t.Errorf("server-info = %+v", info)
	}
	var si handlers.SessionInfoResult
	if err := c.Call(cctx, handlers.ProcSessionInfo, &si); err != nil {
		t.Fatalf("session-info: %v", err)
	}
	if si.SessionID != c.SessionID() || !strings.HasPrefix(si.RemoteAddr, "127.0.0.1:") {
		t.Errorf("session-info = %+v, want session %q from 127.0.0.1", si, c.SessionID())
	}
	var echo []any
	if err := c.Call(cctx, handlers.ProcEcho, &echo, 1, "a", []int{2}); err != nil {
		t.Fatalf("echo: %v", err)
	}
	if want := []any{1.0, "a", []any{2.0}}; !reflect.DeepEqual(echo, want) {
		t.Errorf("echo = %#v, want %#v", echo, want)
	}
	var perr *protocol.Error
	if err := c.Call(cctx, "http://tagwamp.dev/procedure#nope", nil); !errors.As(err, &perr) ||
		perr.URI != protocol.ErrorURINoSuchProcedure {
		t.Errorf("unknown procedure: err = %v, want NoSuchRPCEndpoint", err)
	}

	if err := r.stop(); err != nil { // as SIGTERM does
		t.Fatalf("run = %v\n%s", err, stderr)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Errorf("client still connected after shutdown")
	}
	logs := stderr.String()
	for _, want := range []string{
		`msg="tagwamp listening" addr=` + addr.String() + ` url=ws://` + addr.String() + `/ subprotocol=wamp`,
		`msg="rpc call" uri=http://tagwamp.dev/procedure#server-info`,
		`msg="tagwamp stopped"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

// TestRunWithAuth starts the command with Gomoob's application keys and
// authorizeOpen: false: a connection without credentials is refused, one
// with the key and secret is served, and the logs never show the secret.
func TestRunWithAuth(t *testing.T) {
	const secret = "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW"
	file := writeFile(t, "authorizeOpen: false\napplications:\n  - key: application1\n    secret: "+secret+"\n")
	r := startRun(t, "-config", file, "-log-level", "debug")
	addr, stderr := r.addr, r.logs
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, q := range []string{"", "?key=application1", "?key=application1&secret=wrong"} {
		if c, err := client.Dial(cctx, "ws://"+addr.String()+"/"+q); err == nil {
			c.Close()
			t.Fatalf("dial %q: admitted without valid credentials", q)
		} else if !strings.Contains(err.Error(), "401") {
			t.Fatalf("dial %q: %v, want a 401", q, err)
		}
	}
	c, err := client.Dial(cctx, "ws://"+addr.String()+"/?key=application1&secret="+secret)
	if err != nil {
		t.Fatalf("dial with credentials: %v", err)
	}
	var info handlers.ServerInfoResult
	if err := c.Call(cctx, handlers.ProcServerInfo, &info); err != nil {
		t.Fatalf("server-info: %v", err)
	}
	c.Close()
	if err := r.stop(); err != nil {
		t.Fatalf("run = %v", err)
	}
	logs := stderr.String()
	if strings.Contains(logs, secret) || strings.Contains(logs, "secret=wrong") {
		t.Fatalf("logs show a secret:\n%s", logs)
	}
	if !strings.Contains(logs, "unknown application key or wrong secret") {
		t.Errorf("logs lack the refusal:\n%s", logs)
	}
}

// TestRunDebug starts the command with a debug listener and reads the
// router's counters, the Go runtime's memory and a forced-GC heap profile
// from it over HTTP, with a real session open.
func TestRunDebug(t *testing.T) {
	a := startRun(t, "-debug-addr", "127.0.0.1:0")
	stderr := a.logs
	if a.debug == nil {
		t.Fatal("no debug address")
	}
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(cctx, "ws://"+a.addr.String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(cctx, http.MethodGet, "http://"+a.debug.String()+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{"\ntagwamp_sessions 1\n", "\ngo_memstats_heap_inuse_bytes ",
		"\ngo_memstats_stack_inuse_bytes ", "\nprocess_resident_memory_bytes ", "\ngo_goroutines "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, body := get("/debug/pprof/heap?gc=1&debug=1"); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("/debug/pprof/heap?gc=1: %d %.100q", code, body)
	}
	if code, _ := get("/debug/pprof/"); code != http.StatusOK {
		t.Errorf("/debug/pprof/: %d", code)
	}
	if !strings.Contains(stderr.String(), "must not be reachable from outside") {
		t.Errorf("no warning about the debug listener in\n%s", stderr.String())
	}
	if err := a.stop(); err != nil {
		t.Fatalf("run = %v", err)
	}
	if _, err := net.DialTimeout("tcp", a.debug.String(), time.Second); err == nil {
		t.Error("debug listener still open after shutdown")
	}
}
