package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/tagwamp/tagwamp/metrics"
)

// debugServer is the optional debug listener: metrics and pprof.
type debugServer struct {
	Addr net.Addr
	hs   *http.Server
}

// startDebug serves debugHandler on addr until Close.
func startDebug(addr string, src metrics.Sources, logger *slog.Logger) (*debugServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener: %w", err)
	}
	d := &debugServer{Addr: ln.Addr(), hs: &http.Server{
		Handler:           debugHandler(src),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}}
	logger.Warn("debug listener: metrics and pprof, must not be reachable from outside",
		"addr", ln.Addr().String(), "metrics", "/metrics", "pprof", "/debug/pprof/")
	go func() {
		if err := d.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("debug listener", "err", err)
		}
	}()
	return d, nil
}

// Close stops the debug listener at once.
func (d *debugServer) Close() error { return d.hs.Close() }

// debugHandler serves /metrics (the router's counters, auth's when
// authStats is not nil, the Go runtime, the process) and /debug/pprof/ on
// its own mux: nothing is registered on http.DefaultServeMux's behalf.
func debugHandler(src metrics.Sources) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.HandlerFor(src))
	mux.HandleFunc("/debug/pprof/", pprof.Index) // heap, goroutine, allocs...; heap?gc=1 runs a GC first
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
