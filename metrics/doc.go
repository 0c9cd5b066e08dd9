// Package metrics exports a tagwamp router's counters (router.Stats) and
// package auth's (auth.Stats) as Prometheus metrics.
//
//	mux.Handle("/metrics", metrics.Handler(srv)) // router, Go runtime and process metrics
//	mux.Handle("/metrics", metrics.Handler(srv, metrics.NewAuthCollector(a))) // and package auth's
//
// or, in a registry of one's own:
//
//	reg.MustRegister(metrics.NewCollector(srv))
//
// The collectors read one Stats snapshot per scrape, so the router's hot
// path pays nothing for them: no counter is updated per message. They are
// safe for concurrent use. Tests check that every field of both Stats
// types has its metric. The metrics carry counts only, never session ids,
// topics or payloads.
//
// Histograms are the latency histograms (RPC handler time, delivery queue
// delay, forwarded call round trips), the one part updated as the router
// works: install its observers and serve it with the rest.
//
//	h := metrics.NewHistograms()
//	srv := router.New(router.Options{Observer: h.Router(), ...})
//	fw, _ := forward.New(forward.Options{Observer: h.Forward(), ...})
//	mux.Handle("/metrics", metrics.HandlerFor(metrics.Sources{Router: srv, Histograms: h}))
//
// Their labels are bounded: outcomes from fixed lists and the configured
// forward routes' names, never a URI, a topic or a session. An
// observation costs a few atomic adds; the router reads the clock for
// them only when its Observer is set, twice per CALL and twice per flush
// of queued frames, never per frame (router.Observer).
package metrics
