package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
	"github.com/tagwamp/tagwamp/internal/lograte"
	"github.com/tagwamp/tagwamp/metrics"
	"github.com/tagwamp/tagwamp/router"
)

// serveCommand is tagwamp serve: run, logging to stderr.
func serveCommand(ctx context.Context, args []string, _, stderr io.Writer) error {
	return run(ctx, args, stderr, nil)
}

// run serves until ctx is done, then shuts down. It logs to stderr and, when
// ready is not nil, calls it with the listening addresses before serving
// (debug is nil without a debug listener).
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr, debug net.Addr)) error {
	cfg, err := loadConfig(args, stderr)
	if err != nil {
		return err
	}
	logger, limited := newLogger(cfg, stderr)
	defer limited.Flush()
	if cfg.Procs > 1 {
		return superviseProcs(ctx, args, cfg, logger, stderr)
	}
	if i := os.Getenv(procEnv); i != "" {
		logger = logger.With("proc", i)
	}
	if cfg.ReusePort && !cfg.Broker.Enabled() {
		logger.Warn("reuse_port without broker.nats: a publication reaches only this process's sessions, not those of the other processes on the port")
	}
	broker, err := newBroker(cfg, logger)
	if err != nil {
		return usageError{err}
	}
	if broker != nil {
		defer broker.Close() // after the server's Shutdown below
	}
	var hist *metrics.Histograms // the latency histograms, observed only when /metrics is served
	if cfg.DebugAddr != "" {
		hist = metrics.NewHistograms()
	}
	srv, authStats, err := newServer(cfg, logger, broker, hist)
	if err != nil {
		return usageError{err}
	}
	ln, err := listen(ctx, cfg.Addr, cfg.ReusePort, time.Duration(cfg.Limits.TCPKeepalive))
	if err != nil {
		return err
	}
	var debugAddr net.Addr
	if cfg.DebugAddr != "" {
		src := metrics.Sources{Router: srv, Auth: authStats, Histograms: hist}
		if broker != nil {
			src.Cluster = broker
		}
		dbg, err := startDebug(cfg.DebugAddr, src, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer dbg.Close()
		debugAddr = dbg.Addr
	}
	addr := ln.Addr().String()
	scheme := "ws://"
	if cfg.TLS.Enabled() {
		scheme = "wss://"
	}
	logger.Info("tagwamp listening", append([]any{"addr", addr, "url", scheme + addr + "/", "subprotocol", "wamp",
		"version", router.Version}, pageAttrs(cfg, addr)...)...)
	if ready != nil {
		ready(ln.Addr(), debugAddr)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	timeout := time.Duration(cfg.Limits.ShutdownTimeout)
	logger.Info("tagwamp shutting down", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; serr != nil && !errors.Is(serr, router.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		logger.Error("tagwamp shutdown", "err", err)
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("tagwamp stopped")
	return nil
}

// Log rate: each message logs at most logRate lines a second, logBurst at
// once; the rest are counted and summed up in one line (package lograte).
const (
	logRate  = 10
	logBurst = 100
)

// newLogger returns the server's logger: cfg's level and format on w,
// rate-limited per message. Flush the Handler before exiting.
func newLogger(cfg config.Config, w io.Writer) (*slog.Logger, *lograte.Handler) {
	o := &slog.HandlerOptions{Level: slog.Level(cfg.LogLevel)}
	var h slog.Handler = slog.NewTextHandler(w, o)
	if cfg.LogFormat == config.LogJSON {
		h = slog.NewJSONHandler(w, o)
	}
	limited := lograte.New(h, lograte.Options{PerSecond: logRate, Burst: logBurst})
	return slog.New(limited), limited
}

// serveFlags are the flags of serve (and checkconfig), each also read from
// the environment variable envName names.
type serveFlags struct {
	fs                           *flag.FlagSet
	file, addr, level, format    *string
	certFile, keyFile, debugAddr *string
	maxMsg, procs                *int
	deliver, reusePort           *bool
}

// newServeFlags defines the serve flags on a new flag set for command name.
func newServeFlags(name string, stderr io.Writer) *serveFlags {
	fs := newFlags(name, stderr)
	f := &serveFlags{fs: fs,
		file:      fs.String("config", "", "YAML configuration `file` (see tagwamp.example.yaml)"),
		addr:      fs.String("addr", config.DefaultAddr, "TCP `address` to listen on"),
		level:     fs.String("log-level", "info", "log `level`: debug, info, warn or error"),
		format:    fs.String("log-format", "text", "log `format`: text or json"),
		maxMsg:    fs.Int("max-message-size", 1<<20, "largest client message in `bytes`"),
		deliver:   fs.Bool("deliver-to-publisher", false, "deliver a PUBLISH to its own publisher by default"),
		certFile:  fs.String("tls-cert", "", "serve wss:// with this PEM certificate chain `file` (with -tls-key)"),
		keyFile:   fs.String("tls-key", "", "PEM private key `file` of -tls-cert"),
		debugAddr: fs.String("debug-addr", "", "serve /metrics and /debug/pprof/ on this `address` (never a public one)"),
		reusePort: fs.Bool("reuse-port", false, "share the address with other tagwamp processes (SO_REUSEPORT, Linux)"),
		procs:     fs.Int("procs", 1, "run this many serving processes on the address (with reuse-port)"),
	}
	fs.VisitAll(func(fl *flag.Flag) { fl.Usage += "; env " + envName(fl.Name) })
	return f
}

// envName is the environment variable of a flag: -log-level is
// TAGWAMP_LOG_LEVEL.
func envName(flagName string) string {
	return "TAGWAMP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args, then sets every flag that args left out from its
// environment variable, if that is set: a flag wins over the environment.
func (f *serveFlags) parse(args []string) error {
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	set := make(map[string]bool)
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var errs []error
	f.fs.VisitAll(func(fl *flag.Flag) {
		v, ok := os.LookupEnv(envName(fl.Name))
		if set[fl.Name] || !ok {
			return
		}
		if err := f.fs.Set(fl.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: invalid value %q: %w", envName(fl.Name), v, err))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return usageError{err}
	}
	return nil
}

// config loads the -config file if any (else the defaults) and lets the
// flags and environment variables that were set override it. Its error
// is the file's or the values'; it names the key, or the flag.
func (f *serveFlags) config() (config.Config, error) {
	cfg := config.Default()
	if *f.file != "" {
		var err error
		if cfg, err = config.Load(*f.file); err != nil {
			return config.Config{}, fmt.Errorf("-config %s: %w", *f.file, err)
		}
	}
	var err error
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "addr":
			cfg.Addr = *f.addr
		case "log-level":
			l, lerr := config.ParseLevel(*f.level)
			if lerr != nil {
				err = errors.Join(err, fmt.Errorf("-log-level: %w", lerr))
			}
			cfg.LogLevel = config.Level(l)
		case "log-format":
			cfg.LogFormat = *f.format
		case "max-message-size":
			cfg.Limits.MaxMessageSize = *f.maxMsg
		case "deliver-to-publisher":
			cfg.DeliverToPublisher = *f.deliver
		case "tls-cert":
			cfg.TLS.CertFile = *f.certFile
		case "tls-key":
			cfg.TLS.KeyFile = *f.keyFile
		case "debug-addr":
			cfg.DebugAddr = *f.debugAddr
		case "reuse-port":
			cfg.ReusePort = *f.reusePort
		case "procs":
			cfg.Procs = *f.procs
		}
	})
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

// loadConfig parses serve's flags and environment and returns the
// configuration they describe (precedence: flag > environment > file >
// default). Every error is a usage error (exit 2).
func loadConfig(args []string, stderr io.Writer) (config.Config, error) {
	f := newServeFlags("serve", stderr)
	if err := f.parse(args); err != nil {
		return config.Config{}, err
	}
	cfg, err := f.config()
	if err != nil {
		return config.Config{}, usageError{err}
	}
	return cfg, nil
}
