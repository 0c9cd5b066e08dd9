// Command tagwamp runs a tagwamp WAMP v1 router.
//
// With no flags it listens on 127.0.0.1:8080 and serves the built-in
// procedures (see package handlers); a YAML file (-config, documented in
// tagwamp.example.yaml) sets everything else, and flags override the file:
//
//	tagwamp [-config FILE] [-addr HOST:PORT] [-log-level debug|info|warn|error]
//	        [-max-message-size BYTES] [-deliver-to-publisher]
//	        [-tls-cert FILE -tls-key FILE] [-debug-addr HOST:PORT]
//
// -tls-cert and -tls-key (keys tls.cert_file and tls.key_file, both or
// neither) serve wss:// with a PEM certificate chain, leaf first, and its
// private key.
//
// -debug-addr (key debug_addr, off by default) starts a second listener
// with Prometheus metrics (/metrics: the router's counters, the Go runtime
// and the process) and net/http/pprof (/debug/pprof/; heap?gc=1 forces a
// GC first). It must never be reachable from outside: profiles reveal
// memory contents and cost CPU. Bind it to 127.0.0.1.
//
// SIGINT or SIGTERM shuts the server down gracefully, waiting at most 10s:
// every session is closed with 1001 (going away). The exit status is 0
// after a clean shutdown (or -h), 2 for bad flags or configuration, 1
// otherwise (the address is taken, the shutdown timed out).
//
// On start it logs, with log/slog's text format on stderr, how to connect:
//
//	level=INFO msg="tagwamp listening" addr=127.0.0.1:8080 url=ws://127.0.0.1:8080/ subprotocol=wamp version=0.1.0 page=http://127.0.0.1:8080/
//
// page is the demo page (package web), served on the same port as the
// WebSocket endpoint and the HTTP API: on a loopback address by default,
// elsewhere with web_ui: true (web_ui: false turns it off).
//
// The command is thin: internal/config loads and validates the file,
// server.go maps it to router.Options and package handlers, and the router
// does the rest. It holds no global state; run is the whole program, and
// the tests drive it on a loopback port.
package main
