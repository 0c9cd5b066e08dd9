// Command tagwamp runs a tagwamp WAMP v1 router, and holds the operator's
// tools around it (docs/operations.md):
//
//	tagwamp [serve] [flags]     serve (the default)
//	tagwamp genconfig [-o FILE] write a commented configuration with fresh secrets
//	tagwamp checkconfig -config FILE [flags]
//	                            load and validate without serving; "config OK" or every error (exit 1)
//	tagwamp gentoken -config FILE -sub SUBJECT [-key APP] [-tag K=V]... [-ttl 1h]
//	                            print a connection token (?token=) signed with an application's secret
//	tagwamp version             release, Go version, VCS revision
//	tagwamp help [COMMAND]      list the commands, or one command's flags
//
// With no flags serve listens on 127.0.0.1:8080 and serves the built-in
// procedures (see package handlers); a YAML file (-config, documented in
// tagwamp.example.yaml) sets everything else, and flags override the file:
//
//	tagwamp [-config FILE] [-addr HOST:PORT] [-log-level debug|info|warn|error]
//	        [-log-format text|json] [-max-message-size BYTES] [-deliver-to-publisher]
//	        [-tls-cert FILE -tls-key FILE] [-debug-addr HOST:PORT]
//	        [-reuse-port] [-procs N]
//
// Every flag has an environment variable, TAGWAMP_ and its name in capitals
// with underscores (-log-level is TAGWAMP_LOG_LEVEL, -config is
// TAGWAMP_CONFIG). Precedence: flag > environment > file > default; a
// variable that is set, even to "", counts as set.
//
// -tls-cert and -tls-key (keys tls.cert_file and tls.key_file, both or
// neither) serve wss:// with a PEM certificate chain, leaf first, and its
// private key.
//
// -debug-addr (key debug_addr, off by default) starts a second listener
// with Prometheus metrics (/metrics: the router's counters, auth's when it
// is on, the Go runtime and the process) and net/http/pprof (/debug/pprof/;
// heap?gc=1 forces a GC first). It must never be reachable from outside:
// profiles reveal memory contents and cost CPU. Bind it to 127.0.0.1.
//
// -reuse-port (key reuse_port) sets SO_REUSEPORT on the listener so that
// several tagwamp processes share the address (Linux). -procs N (key
// procs) runs N of them from one command (procs.go): it re-executes
// itself with -procs 1 -reuse-port, forwards the first SIGTERM or SIGINT,
// restarts a process that dies, and stops them all when one exits 2.
// Above 1 it needs broker.nats unless procs_without_broker: true
// (docs/operations.md#many-processes-on-one-port).
//
// SIGINT or SIGTERM shuts the server down gracefully, waiting at most 10s:
// every session is closed with 1001 (going away). The exit status is 0
// after a clean shutdown (or -h), 2 for bad flags, arguments or
// configuration, 1 otherwise (the address is taken, the shutdown timed out,
// checkconfig found errors).
//
// On start it logs, with log/slog's text format (or JSON, -log-format json)
// on stderr, how to connect:
//
//	level=INFO msg="tagwamp listening" addr=127.0.0.1:8080 url=ws://127.0.0.1:8080/ subprotocol=wamp version=0.1.0 page=http://127.0.0.1:8080/
//
// page is the demo page (package web), served on the same port as the
// WebSocket endpoint and the HTTP API: on a loopback address by default,
// elsewhere with web_ui: true (web_ui: false turns it off).
//
// Each message logs at most 10 lines a second, 100 at once (package
// internal/lograte); past that one line says how many were dropped, so no
// client can flood the log. At debug level every RPC call and every
// session's close (id, client, duration) is logged.
//
// The command is thin: main.go dispatches to one file per command,
// internal/config loads and validates the file, server.go maps it to
// router.Options and package handlers, and the router does the rest. It
// holds no global state; dispatch and run are the whole program, and the
// tests drive them in-process, the server on a loopback port.
package main
