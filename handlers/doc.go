// Package handlers is application policy over the router's small
// interfaces: an RPC mux, a topic mux, connection filters, a call logger
// and the built-in procedures. The router never imports it;
// everything here is optional and replaceable by your own implementation of
// the same router interface.
//
// Each fits one of the router's plug points (router package doc,
// "Handlers and middleware"): IPFilter and OriginCheck are
// router.HandshakeFilters (Options.Filters), Mux an RPC handler
// (Options.RPC), LogCalls an RPC middleware (Options.RPCMiddleware), and
// TopicMux a topic handler (Options.Topics).
//
// # Usage
//
//	mux := new(handlers.Mux)
//	mux.Handle("http://example.com/calc#add", handlers.Func(
//		func(ctx context.Context, s *router.Session, xs []float64) (float64, error) {
//			return xs[0] + xs[1], nil
//		}))
//	ipf, err := handlers.NewIPFilter([]string{"10.0.0.0/8"}, nil)
//	if err != nil { ... }
//	oc, err := handlers.NewOriginCheck([]string{"https://*.example.com"}, false)
//	if err != nil { ... }
//	srv := router.New(router.Options{
//		Filters:       []router.HandshakeFilter{ipf, oc},
//		RPC:           mux,
//		RPCMiddleware: []router.RPCMiddleware{handlers.LogCalls(logger)},
//	})
//	handlers.RegisterBuiltins(mux, srv)
//
// # Built-in procedures
//
// RegisterBuiltins registers these procedures under these URIs; each is
// also exported, to mount under URIs of your own
// (mux.HandleFunc("urn:myapp#ping", handlers.Ping)). Their results are
// JSON, as the CALLRESULT carries them:
//
//	Ping          http://tagwamp.dev/procedure#ping          (ProcPing)
//	    Any arguments. Result: "pong". A liveness probe.
//	Echo          http://tagwamp.dev/procedure#echo          (ProcEcho)
//	    Any arguments. Result: the arguments as one list, [] for none:
//	    [2,"c1","http://tagwamp.dev/procedure#echo",1,"a"] answers [1,"a"].
//	    Handy to test a client's encoding.
//	SessionInfo   http://tagwamp.dev/procedure#session-info  (ProcSessionInfo)
//	    No arguments needed. Result: the caller's own session,
//	    {"session_id":"...","remote_addr":"192.0.2.7:51234"}.
//	ServerInfo    http://tagwamp.dev/procedure#server-info   (ProcServerInfo)
//	    No arguments needed. Result:
//	    {"server":"tagwamp/0.1.0","version":"0.1.0","uptime_seconds":42,
//	     "sessions":3,"subscriptions":7,"go":"go1.26.0"}
//	    uptime_seconds counts whole seconds since the server started;
//	    sessions and subscriptions are live counts (router.Stats).
//
// # Concurrency and borrowed bytes
//
// Every type here is safe for concurrent use. Mux and TopicMux may gain
// routes while serving; their lookups take no lock and allocate nothing.
// IPFilter and OriginCheck are immutable once built. Handlers receive the
// router's borrowed bytes (router.Call.Args, router.Publication.Event) valid
// until they return: Func decodes into memory of its own, and Echo copies
// the arguments into a fresh list before returning it (router.Call.ArgsList,
// which the router writes without checking the arguments a second time).
package handlers
