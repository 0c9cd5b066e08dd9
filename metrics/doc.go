// Package metrics exports a tagwamp router's counters (router.Stats) as
// Prometheus metrics.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(metrics.NewCollector(srv), collectors.NewGoCollector())
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The Collector reads one Stats snapshot per scrape, so the router's hot
// path pays nothing for it: no metric is updated per message. It is safe
// for concurrent use. The metrics carry counts only, never session ids,
// topics or payloads.
package metrics
