// Package sysstat reads what the harness measures of a server process
// from outside it: CPU time from /proc/<pid>/stat, resident memory from
// /proc/<pid>/status, and Go runtime figures scraped from a Prometheus
// text endpoint. Linux only; every function is safe for concurrent use.
//
//	cpu, _ := sysstat.CPUSeconds(pid)
//	rss, _ := sysstat.RSS(pid)
//	m, _ := sysstat.Scrape(ctx, "http://127.0.0.1:6060/metrics")
//	heap := m["go_memstats_heap_inuse_bytes"]
package sysstat
