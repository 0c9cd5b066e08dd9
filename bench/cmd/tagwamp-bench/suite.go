package main

import (
	"fmt"
	"time"
)

// suiteRuns is a predefined list of runs. standard is `make bench`: every
// scenario at the sizes the bench targets name (bench/RESULTS.md, "The
// bench targets"), 3.5-5 minutes on the quiet 2-core box with both
// servers (up to about 10 when loaded),
// fan-outs on per-subscriber tag topics (-topics, from base) and the
// 10k window 1 fanout and the burst again on one shared topic string;
// smoke is the seconds-long run of the tests, small N, every scenario,
// both topic layouts.
func suiteRuns(name string, base params) ([]runSpec, error) {
	with := func(sc string, edit func(p *params)) runSpec {
		p := base
		edit(&p)
		return runSpec{sc, p}
	}
	switch name {
	case "standard":
		std := func(p *params) { p.Duration, p.Warmup, p.Pad = 5*time.Second, time.Second, 16 }
		return []runSpec{
			with("connect", func(p *params) { std(p); p.Conns, p.Concurrency = 5000, 64 }),
			with("idle", func(p *params) { std(p); p.Conns, p.Concurrency, p.IdleWindow = 19500, 64, 10*time.Second }),
			with("fanout", func(p *params) { std(p); p.Subs, p.Share, p.Pubs, p.Window, p.Rate = 1000, 1, 1, 1, 0 }),
			with("fanout", func(p *params) { std(p); p.Subs, p.Share, p.Pubs, p.Window, p.Rate = 1000, 1, 1, 8, 0 }),
			with("fanout", func(p *params) { std(p); p.Subs, p.Share, p.Pubs, p.Window, p.Rate = 10000, 1, 1, 1, 0 }),
			// The same on one shared topic string: tagwamp's best case.
			with("fanout", func(p *params) {
				std(p)
				p.Subs, p.Share, p.Pubs, p.Window, p.Rate, p.Topics = 10000, 1, 1, 1, 0, topicsShared
			}),
			with("fanout", func(p *params) { std(p); p.Subs, p.Share, p.Pubs, p.Window, p.Rate = 10000, 1, 2, 8, 0 }),
			with("fanout", func(p *params) { std(p); p.Subs, p.Share, p.Pubs, p.Window, p.Rate = 10000, 0.1, 2, 8, 0 }),
			// Latency at 200k deliveries/s: 20 publications/s to 10k.
			with("fanout", func(p *params) { std(p); p.Subs, p.Share, p.Pubs, p.Window, p.Rate = 10000, 1, 1, 8, 20 }),
			with("burst", func(p *params) { std(p); p.Subs, p.Bursts = 10000, 20 }),
			with("burst", func(p *params) { std(p); p.Subs, p.Bursts, p.Topics = 10000, 20, topicsShared }),
			with("floor", func(p *params) { std(p); p.FloorConns, p.FloorWindow = 1, 1 }),
			with("rpc", func(p *params) { std(p); p.Callers, p.CallWindow = 1, 1 }),
			// The floor of 16 x 16: rpc's shape over a bare echo server.
			with("floor", func(p *params) { std(p); p.FloorConns, p.FloorWindow = 16, 16 }),
			with("rpc", func(p *params) { std(p); p.Callers, p.CallWindow = 16, 16 }),
			with("mixed", func(p *params) {
				std(p)
				p.Browsers, p.Groups, p.Backends, p.MixedRate, p.MixedCallers, p.CallWindow = 10000, 100, 2, 400, 4, 8
			}),
		}, nil
	case "smoke":
		smoke := func(p *params) {
			p.Duration, p.Warmup, p.Pad, p.Concurrency, p.IdleWindow = 500*time.Millisecond, 200*time.Millisecond, 8, 16, 300*time.Millisecond
		}
		return []runSpec{
			with("connect", func(p *params) { smoke(p); p.Conns = 50 }),
			with("idle", func(p *params) { smoke(p); p.Conns = 50 }),
			with("fanout", func(p *params) { smoke(p); p.Subs, p.Share, p.Pubs, p.Window, p.Rate = 40, 0.5, 2, 4, 0 }),
			with("fanout", func(p *params) {
				smoke(p)
				p.Subs, p.Share, p.Pubs, p.Window, p.Rate, p.Topics = 20, 1, 1, 2, 100, topicsShared
			}),
			with("burst", func(p *params) { smoke(p); p.Subs, p.Bursts = 30, 3 }),
			with("floor", func(p *params) { smoke(p); p.FloorConns, p.FloorWindow = 1, 1 }),
			with("floor", func(p *params) { smoke(p); p.FloorConns, p.FloorWindow = 2, 4 }),
			with("rpc", func(p *params) { smoke(p); p.Callers, p.CallWindow = 2, 4 }),
			with("mixed", func(p *params) {
				smoke(p)
				p.Browsers, p.Groups, p.Backends, p.MixedRate, p.MixedCallers, p.CallWindow = 30, 3, 1, 200, 1, 2
			}),
		}, nil
	}
	return nil, fmt.Errorf("unknown suite %q: standard or smoke", name)
}
