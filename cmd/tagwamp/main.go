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
	"os/signal"
	"syscall"
	"time"

	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
	"github.com/tagwamp/tagwamp/router"
)

// usageError marks errors in the flags or the configuration (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	// The first SIGINT or SIGTERM starts a graceful shutdown; a second one
	// stops the process at once instead of waiting for the drain.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-sigs
		cancel()
		s := <-sigs
		fmt.Fprintf(os.Stderr, "tagwamp: second signal (%v): stopping at once\n", s)
		os.Exit(1)
	}()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "tagwamp:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "tagwamp:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down. It logs to stderr and, when
// ready is not nil, calls it with the listening addresses before serving
// (debug is nil without a debug listener).
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr, debug net.Addr)) error {
	cfg, err := loadConfig(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.Level(cfg.LogLevel)}))
	srv, err := newServer(cfg, logger)
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	var debugAddr net.Addr
	if cfg.DebugAddr != "" {
		dbg, err := startDebug(cfg.DebugAddr, srv, logger)
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

// loadConfig parses the flags, loads the -config file if any (else the
// defaults), and lets the flags that were set override it.
func loadConfig(args []string, stderr io.Writer) (config.Config, error) {
	fs := flag.NewFlagSet("tagwamp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration `file` (see tagwamp.example.yaml)")
	addr := fs.String("addr", config.DefaultAddr, "TCP `address` to listen on")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	maxMsg := fs.Int("max-message-size", 1<<20, "largest client message in `bytes`")
	deliver := fs.Bool("deliver-to-publisher", false, "deliver a PUBLISH to its own publisher by default")
	certFile := fs.String("tls-cert", "", "serve wss:// with this PEM certificate chain `file` (with -tls-key)")
	keyFile := fs.String("tls-key", "", "PEM private key `file` of -tls-cert")
	debugAddr := fs.String("debug-addr", "", "serve /metrics and /debug/pprof/ on this `address` (never a public one)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config.Config{}, err
		}
		return config.Config{}, usageError{err}
	}
	if fs.NArg() > 0 {
		return config.Config{}, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	cfg := config.Default()
	if *file != "" {
		var err error
		if cfg, err = config.Load(*file); err != nil {
			return config.Config{}, usageError{fmt.Errorf("-config %s: %w", *file, err)}
		}
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			cfg.Addr = *addr
		case "log-level":
			l, lerr := config.ParseLevel(*level)
			if lerr != nil {
				err = errors.Join(err, fmt.Errorf("-log-level: %w", lerr))
			}
			cfg.LogLevel = config.Level(l)
		case "max-message-size":
			cfg.Limits.MaxMessageSize = *maxMsg
		case "deliver-to-publisher":
			cfg.DeliverToPublisher = *deliver
		case "tls-cert":
			cfg.TLS.CertFile = *certFile
		case "tls-key":
			cfg.TLS.KeyFile = *keyFile
		case "debug-addr":
			cfg.DebugAddr = *debugAddr
		}
	})
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return config.Config{}, usageError{err}
	}
	return cfg, nil
}
