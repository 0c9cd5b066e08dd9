package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/cluster"
	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/httpapi"
	"github.com/tagwamp/tagwamp/metrics"
	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/web"
)

// newServer builds the server cfg describes, with the built-in procedures
// registered when cfg.Builtins is set, joined to a cluster by broker when
// not nil, filling hist's latency histograms when hist is not nil.
// authStats reads package auth's counters; it is nil when authentication
// is off.
func newServer(cfg config.Config, logger *slog.Logger, broker *cluster.NATS, hist *metrics.Histograms) (srv *router.Server, authStats metrics.AuthSource, err error) {
	opts, mux, err := options(cfg, logger, hist)
	if err != nil {
		return nil, nil, err
	}
	if broker != nil {
		opts.Broker = broker
	}
	for _, e := range opts.Extensions {
		if a, ok := e.Hook.(metrics.AuthSource); ok {
			authStats = a
		}
	}
	// The HTTP API needs the server it acts on, and the server its
	// handler: the handler is set once both exist, before serving.
	var late lateHandler
	apiOn := apiServed(cfg, logger)
	uiOn := webUIServed(cfg, logger)
	if apiOn || uiOn {
		opts.HTTP = &late
	}
	srv = router.New(opts)
	if broker != nil {
		broker.Attach(srv)
	}
	if cfg.Builtins {
		handlers.RegisterBuiltins(mux, srv)
	}
	var api http.Handler
	if apiOn {
		apiKeys := cfg.APIKeys()
		keys := make([]httpapi.Key, len(apiKeys))
		for i, k := range apiKeys {
			keys[i] = httpapi.Key{Name: k.Name, Key: k.Key}
			for _, e := range k.Endpoints {
				keys[i].Endpoints = append(keys[i].Endpoints, httpapi.Endpoint(e))
			}
		}
		h, err := httpapi.New(httpapi.Config{Server: srv, Keys: keys, MaxBody: cfg.API.MaxBody, Rate: rate(cfg.API.Rate),
			Ready: srv.Ready, Logger: logger})
		if err != nil {
			return nil, nil, fmt.Errorf("api: %w", err)
		}
		api = h
	}
	late.h = httpHandler(api, uiOn)
	return srv, authStats, nil
}

// apiServed reports whether the HTTP API is served: when enabled, with
// keys, or without keys on a loopback address only (an open API must not
// be reachable from elsewhere); it says so when it is not.
func apiServed(cfg config.Config, logger *slog.Logger) bool {
	switch {
	case !cfg.API.Enabled:
		return false
	case len(cfg.APIKeys()) > 0 || loopback(cfg.Addr):
		return true
	}
	logger.Warn("HTTP API off: addr is not a loopback address and no API key is configured; "+
		"add one under api.keys, or an api list to an application, to serve it (docs/http-api.md)", "addr", cfg.Addr)
	return false
}

// loopback reports whether the listen address addr is on loopback only:
// its host a loopback IP or localhost (":8080" listens everywhere).
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// --- The demo page (web_ui): docs in package web. ---

// webUIServed reports whether the demo page is served: as web_ui says, or,
// when it is absent, on a loopback address only; it says so when it is
// not served for that reason.
func webUIServed(cfg config.Config, logger *slog.Logger) bool {
	if cfg.WebUI != nil {
		return *cfg.WebUI
	}
	if loopback(cfg.Addr) {
		return true
	}
	logger.Info("demo page off: addr is not a loopback address; web_ui: true serves it", "addr", cfg.Addr)
	return false
}

// httpHandler is the server's HTTP handler (router.Options.HTTP): the
// HTTP API on /api/, /healthz and /readyz when api is not nil, the demo
// page on every other path when ui is set. Alone, each takes every path
// (the API answers its JSON 404).
func httpHandler(api http.Handler, ui bool) http.Handler {
	switch {
	case !ui:
		return api
	case api == nil:
		return web.Handler()
	}
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/readyz"} {
		mux.Handle(p, api)
	}
	mux.Handle("/", web.Handler())
	return mux
}

// pageAttrs is the startup log's page=<URL> of the demo page when it is
// served on addr (a listening address), else nothing.
func pageAttrs(cfg config.Config, addr string) []any {
	if !webUIServed(cfg, slog.New(slog.DiscardHandler)) {
		return nil
	}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("127.0.0.1", port) // listening everywhere: loopback too
		}
	}
	scheme := "http://"
	if cfg.TLS.Enabled() {
		scheme = "https://"
	}
	return []any{"page", scheme + addr + "/"}
}

// lateHandler is an http.Handler set after the server that serves it is
// made; it answers 503 until then.
type lateHandler struct{ h http.Handler }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l.h == nil {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	l.h.ServeHTTP(w, r)
}

// options maps cfg to router options. Filters, middleware and auth are
// installed only where cfg configures them, so the default configuration
// runs none; LogCalls and logSessions only at debug level. The router layers them (its
// package doc, "Handlers and middleware"), so the order here is free. The
// returned Mux is opts.RPC, for the caller to fill. When hist is not nil,
// the router and the forwarder fill its histograms (else they read no
// clock for them).
func options(cfg config.Config, logger *slog.Logger, hist *metrics.Histograms) (router.Options, *handlers.Mux, error) {
	l := cfg.Limits
	mux := new(handlers.Mux)
	opts := router.Options{
		ServerIdent:      cfg.ServerIdent,
		MaxMessageSize:   l.MaxMessageSize,
		MaxQueueBytes:    l.MaxQueueBytes,
		Workers:          l.Workers,
		HandshakeTimeout: time.Duration(l.HandshakeTimeout),
		WriteTimeout:     time.Duration(l.WriteTimeout),
		PingInterval:     time.Duration(l.PingInterval), // Off is negative: no pings
		PingTimeout:      time.Duration(l.PingTimeout),
		CallTimeout:      time.Duration(l.CallTimeout), // Off is negative: no timeout
		MaxHandshakes:    l.MaxHandshakes,
		// Off is negative: only handshake_timeout applies.
		HandshakeFirstByteTimeout: time.Duration(l.HandshakeFirstByteTimeout),
		MaxHandshakesPerIP:        offIfZero(l.MaxHandshakesPerIP),
		MaxRequestLine:            l.MaxRequestLine,
		MaxHeaderLine:             l.MaxHeaderLine,
		MaxHandshakeBytes:         l.MaxHandshakeBytes,
		MaxConns:                  l.MaxConns,
		MaxConnsPerIP:             l.MaxConnsPerIP,
		RetryAfter:                time.Duration(l.RetryAfter),
		MaxSubscriptions:          offIfZero(l.MaxSubscriptions),
		MaxPrefixes:               offIfZero(l.MaxPrefixes),
		MessageRate:               rate(l.MessageRate),
		ByteRate:                  rate(l.ByteRate),
		MaxURILength:              offIfZero(l.MaxURILength),
		MaxTagsPerTopic:           offIfZero(l.MaxTagsPerTopic),
		MaxMessageElements:        offIfZero(l.MaxMessageElements),
		MaxPublishIDs:             offIfZero(l.MaxPublishIDs),
		MaxRunningCalls:           l.MaxRunningCalls,
		MaxBufferedInput:          offIfZero(l.MaxBufferedInput),
		MaxQueuedTotal:            offIfZero(l.MaxQueuedTotal),
		FrameTimeout:              time.Duration(l.FrameTimeout), // Off is negative: none
		DeliverToPublisher:        cfg.DeliverToPublisher,
		DisableIOUring:            !cfg.IOUring,
		Poller:                    cfg.Poller, // validated: router.PollerDefault or PollerEasygo
		RPC:                       mux,
		Logger:                    logger,
	}
	if hist != nil {
		opts.Observer = hist.Router()
	}
	if slog.Level(cfg.LogLevel) <= slog.LevelDebug {
		opts.RPCMiddleware = append(opts.RPCMiddleware, handlers.LogCalls(logger))
		opts.SessionHooks = append(opts.SessionHooks, logSessions(logger))
	}
	proxies, err := config.ParsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return router.Options{}, nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	opts.TrustedProxies = proxies
	if ip := cfg.Middleware.IP; len(ip.Allow) > 0 || len(ip.Deny) > 0 {
		f, err := handlers.NewIPFilter(ip.Allow, ip.Deny)
		if err != nil {
			return router.Options{}, nil, err
		}
		opts.Filters = append(opts.Filters, logRefusals("ip", f, logger))
	}
	if t := cfg.TLS; t.Enabled() {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return router.Options{}, nil, fmt.Errorf("tls: %w", err)
		}
		opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.AuthEnabled() {
		a, err := auth.New(cfg.AuthOptions(logger))
		if err != nil {
			return router.Options{}, nil, err
		}
		opts.Extensions = append(opts.Extensions, a.Extension())
	}
	if cfg.Forward.Enabled() { // after auth's: what auth refuses costs no request
		fo := cfg.Forward.Options(logger)
		if hist != nil {
			fo.Observer = hist.Forward()
		}
		fw, err := forward.New(fo)
		if err != nil {
			return router.Options{}, nil, err
		}
		opts.Extensions = append(opts.Extensions, fw.Extension())
	}
	if o := cfg.Middleware.Origin; len(o.Allow) > 0 || o.Require {
		c, err := handlers.NewOriginCheck(o.Allow, o.Require)
		if err != nil {
			return router.Options{}, nil, err
		}
		opts.Filters = append(opts.Filters, logRefusals("origin", c, logger))
	}
	return opts, mux, nil
}

// offIfZero maps the file's 0 ("no limit") to the router's negative off
// switch; the router reads 0 as "the default".
func offIfZero(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// rate maps a rate section to a router.RateLimit; per_second 0 is off.
func rate(r config.Rate) router.RateLimit {
	return router.RateLimit{PerSecond: offIfZero(r.PerSecond), Burst: r.Burst}
}
