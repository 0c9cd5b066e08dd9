// Package metrics exports a tagwamp router's counters (router.Stats) as
// Prometheus metrics.
//
//	mux.Handle("/metrics", metrics.Handler(srv)) // router, Go runtime and process metrics
//
// or, in a registry of one's own:
//
//	reg.MustRegister(metrics.NewCollector(srv))
//
// The Collector reads one Stats snapshot per scrape, so the router's hot
// path pays nothing for it: no metric is updated per message. It is safe
// for concurrent use. The metrics carry counts only, never session ids,
// topics or payloads.
package metrics
