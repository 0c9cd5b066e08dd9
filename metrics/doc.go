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
// path pays nothing for it: no metric is updated per message. They are
// safe for concurrent use. Tests check that every field of both Stats
// types has its metric. The metrics carry counts only, never session ids,
// topics or payloads.
package metrics
