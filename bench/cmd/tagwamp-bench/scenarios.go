package main

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tagwamp/tagwamp/bench/internal/gen"
	"github.com/tagwamp/tagwamp/bench/internal/report"
)

// params are every scenario's parameters, from the command line.
type params struct {
	Duration time.Duration // measured window
	Warmup   time.Duration // load before the window opens

	Conns       int // connect, idle: sessions
	Concurrency int // connect: setups at once
	IdleWindow  time.Duration

	Subs   int     // fanout, burst: subscribers
	Share  float64 // fanout: share of subscribers one publication reaches
	Pubs   int     // fanout: publisher connections
	Window int     // fanout: publications in flight per publisher
	Rate   float64 // fanout: publications per second (0: as fast as the window allows)
	Topics string  // fanout, burst: topicsPerSub or topicsShared
	Pad    int     // payload padding
	Bursts int     // burst: publications, one at a time

	Callers    int // rpc: caller connections
	CallWindow int // rpc: calls in flight per caller

	FloorConns  int // floor: client connections
	FloorWindow int // floor: round trips in flight per connection

	Browsers     int     // mixed: browser sessions
	Groups       int     // mixed: groups
	Backends     int     // mixed: publishing backends
	MixedRate    float64 // mixed: publications per second
	MixedCallers int     // mixed: calling backends

	Nodes  int // cluster, million: tagwamp nodes joined by one nats-server
	Shards int // million: shard tags (a publication to one reaches one session in Shards)
	Rounds int // cluster: alternating rounds on one node and on the cluster
}

// nodes is how many cluster nodes the harness starts for a scenario
// itself (0: one plain server).
func nodes(scenario string, p params) int {
	if scenario == "million" {
		return p.Nodes
	}
	return 0
}

// The subscription layouts of -topics.
const (
	// topicsPerSub: subscriber i of group g on its own tag topic
	// (wire.Proto GroupUserTopic), the product's shape: tagwamp encodes
	// one EVENT per receiver. The peer's channels have no tags: it gets
	// the group's channel, as with topicsShared.
	topicsPerSub = "per-sub"
	// topicsShared: every subscriber of group g on the group's one topic
	// string, tagwamp's best case (one EVENT per publication).
	topicsShared = "shared"
)

// subTopics is the generator's layout for -topics.
func subTopics(p params) gen.Topics {
	if p.Topics == topicsShared {
		return gen.TopicsGroup
	}
	return gen.TopicsGroupUser
}

// scenario runs one scenario on one server into s.res.
type scenario func(s *session, p params) error

// scenarios by name, and the name each result carries.
var scenarios = map[string]struct {
	run   scenario
	name  func(p params) string
	args  func(p params) map[string]any
	short func(p params) string // the chart label; name is the caption
}{
	"connect": {runConnect,
		func(p params) string { return fmt.Sprintf("connect conns=%d conc=%d", p.Conns, p.Concurrency) },
		func(p params) map[string]any { return map[string]any{"conns": p.Conns, "concurrency": p.Concurrency} },
		func(p params) string { return "connect " + kilo(p.Conns) }},
	"idle": {runIdle,
		func(p params) string { return fmt.Sprintf("idle sessions=%d", p.Conns) },
		func(p params) map[string]any {
			return map[string]any{"sessions": p.Conns, "idleWindow": p.IdleWindow.String()}
		},
		func(p params) string { return "idle " + kilo(p.Conns) }},
	"fanout": {runFanout,
		func(p params) string {
			rate := "max"
			if p.Rate > 0 {
				rate = fmt.Sprintf("%.0f/s", p.Rate)
			}
			return fmt.Sprintf("fanout subs=%d share=%g pubs=%d window=%d rate=%s topics=%s", p.Subs, p.Share, p.Pubs, p.Window, rate, p.Topics)
		},
		func(p params) map[string]any {
			return map[string]any{"subs": p.Subs, "share": p.Share, "groups": groups(p.Share), "pubs": p.Pubs,
				"window": p.Window, "rate": p.Rate, "pad": p.Pad, "duration": p.Duration.String(), "warmup": p.Warmup.String(),
				"topics": p.Topics, "inFlight": "complete"}
		},
		func(p params) string {
			s := "fanout " + kilo(p.Subs)
			if g := groups(p.Share); g > 1 {
				s += fmt.Sprintf(" 1/%d", g)
			}
			if p.Pubs > 1 {
				s += fmt.Sprintf(" %dpub", p.Pubs)
			}
			s += fmt.Sprintf(" w%d", p.Window)
			if p.Rate > 0 {
				s += fmt.Sprintf(" %.0f/s", p.Rate)
			}
			return s + " " + p.Topics
		}},
	"burst": {runBurst,
		func(p params) string { return fmt.Sprintf("burst subs=%d topics=%s", p.Subs, p.Topics) },
		func(p params) map[string]any {
			return map[string]any{"subs": p.Subs, "bursts": p.Bursts, "pad": p.Pad, "topics": p.Topics}
		},
		func(p params) string { return "burst " + kilo(p.Subs) + " " + p.Topics }},
	// floor has no run: it needs neither server, and runs once (runFloor).
	"floor": {nil,
		func(p params) string {
			if p.FloorConns == 1 {
				return fmt.Sprintf("floor tcp-echo %dB window=%d", floorSize, p.FloorWindow)
			}
			return fmt.Sprintf("floor tcp-echo %dB conns=%d window=%d", floorSize, p.FloorConns, p.FloorWindow)
		},
		func(p params) map[string]any {
			m := map[string]any{"size": floorSize, "window": p.FloorWindow, "duration": p.Duration.String(), "warmup": p.Warmup.String()}
			if p.FloorConns != 1 {
				m["conns"] = p.FloorConns
			}
			return m
		},
		func(p params) string {
			if p.FloorConns == 1 && p.FloorWindow == 1 {
				return "floor echo"
			}
			return fmt.Sprintf("floor echo %dx%d", p.FloorConns, p.FloorWindow)
		}},
	"rpc": {runRPC,
		func(p params) string { return fmt.Sprintf("rpc callers=%d window=%d", p.Callers, p.CallWindow) },
		func(p params) map[string]any {
			return map[string]any{"callers": p.Callers, "window": p.CallWindow, "pad": p.Pad,
				"duration": p.Duration.String(), "warmup": p.Warmup.String()}
		},
		func(p params) string { return fmt.Sprintf("rpc %dx%d", p.Callers, p.CallWindow) }},
	"cluster": {runCluster,
		func(p params) string {
			rate := "max"
			if p.Rate > 0 {
				rate = fmt.Sprintf("%.0f/s", p.Rate)
			}
			return fmt.Sprintf("cluster nodes=%d subs=%d share=%g pubs=%d window=%d rate=%s topics=%s", p.Nodes, p.Subs, p.Share, p.Pubs, p.Window, rate, p.Topics)
		},
		func(p params) map[string]any {
			return map[string]any{"nodes": p.Nodes, "subs": p.Subs, "share": p.Share, "groups": groups(p.Share), "pubs": p.Pubs,
				"window": p.Window, "rate": p.Rate, "pad": p.Pad, "rounds": p.Rounds,
				"duration": p.Duration.String(), "warmup": p.Warmup.String(), "topics": p.Topics, "inFlight": "complete"}
		},
		func(p params) string { return fmt.Sprintf("cluster %d×%s w%d", p.Nodes, kilo(p.Subs), p.Window) }},
	"million": {runMillion,
		func(p params) string { return fmt.Sprintf("million sessions=%d nodes=%d", p.Conns, p.Nodes) },
		func(p params) map[string]any {
			return map[string]any{"sessions": p.Conns, "nodes": p.Nodes, "shards": p.Shards, "bursts": p.Bursts,
				"concurrency": p.Concurrency, "pad": p.Pad}
		},
		func(p params) string { return fmt.Sprintf("million %s/%d", kilo(p.Conns), p.Nodes) }},
	"mixed": {runMixed,
		func(p params) string {
			return fmt.Sprintf("mixed browsers=%d groups=%d pub=%.0f/s callers=%d", p.Browsers, p.Groups, p.MixedRate, p.MixedCallers)
		},
		func(p params) map[string]any {
			return map[string]any{"browsers": p.Browsers, "groups": p.Groups, "backends": p.Backends,
				"rate": p.MixedRate, "callers": p.MixedCallers, "window": p.CallWindow, "pad": p.Pad,
				"duration": p.Duration.String(), "warmup": p.Warmup.String()}
		},
		func(p params) string { return "mixed " + kilo(p.Browsers) }},
}

// kilo writes n shortly: 950, 5k, 19.5k, 1M.
func kilo(n int) string {
	switch {
	case n >= 1e6 && n%1e5 == 0:
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
	case n >= 1e3 && n%100 == 0:
		return strconv.FormatFloat(float64(n)/1e3, 'f', -1, 64) + "k"
	}
	return strconv.Itoa(n)
}

// groups is how many groups give each publication share of subscribers.
func groups(share float64) int {
	if share <= 0 || share >= 1 {
		return 1
	}
	return max(1, int(math.Round(1/share)))
}

// groupSizes is how many of n subscribers (numbered 0..n-1, subscriber
// i in group i mod g) each group has.
func groupSizes(n, g int) []int64 {
	sz := make([]int64, g)
	for i := range sz {
		sz[i] = int64(n / g)
		if i < n%g {
			sz[i]++
		}
	}
	return sz
}

// expected is how many deliveries the publications of st make.
func expected(st gen.Stats, sizes []int64) int64 {
	n := st.SentPersonal
	for g, k := range st.SentGroup {
		n += k * sizes[g]
	}
	return n
}

func runConnect(s *session, p params) error {
	a := s.snap()
	_, sts, err := s.spawn(gen.Spec{Role: gen.RoleSubscriber, Count: p.Conns, Concurrency: p.Concurrency, Topics: gen.TopicsNone})
	if err != nil {
		return err
	}
	b := s.snap()
	if err := s.window(a, b); err != nil {
		return err
	}
	t := sum(sts)
	if t.Conns != p.Conns {
		return fmt.Errorf("%d of %d connections set up", t.Conns, p.Conns)
	}
	s.res.Add("connections/s", float64(p.Conns)/t.SetupSeconds, "1/s", report.Higher)
	s.addPerCPU("connections per server CPU-s", float64(p.Conns))
	s.addLatency("connect", gen.MergeLatency(sts, true))
	return nil
}

func runIdle(s *session, p params) error {
	ctx := s.h.ctx
	heap0, stack0, err := s.srv.goMem(ctx)
	if err != nil {
		return err
	}
	rss0, err := s.srv.rss()
	if err != nil {
		return err
	}
	ws, _, err := s.spawn(gen.Spec{Role: gen.RoleSubscriber, Count: p.Conns, Concurrency: p.Concurrency, Topics: gen.TopicsPersonal})
	if err != nil {
		return err
	}
	time.Sleep(time.Second) // let the setup's goroutines and buffers go
	heap1, stack1, err := s.srv.goMem(ctx)
	if err != nil {
		return err
	}
	rss1, err := s.srv.rss()
	if err != nil {
		return err
	}
	a := s.snap()
	time.Sleep(p.IdleWindow)
	b := s.snap()
	if err := s.window(a, b); err != nil {
		return err
	}
	t := sum(mustCount(ws))
	if t.Closed != 0 || t.Conns != p.Conns {
		return fmt.Errorf("%d of %d sessions open, %d closed by the server", t.Conns-int(t.Closed), p.Conns, t.Closed)
	}
	n := float64(p.Conns)
	s.res.Add("sessions", n, "n", report.Neither)
	s.res.Add("Go heap+stack per session", (heap1+stack1-heap0-stack0)/n, "B", report.Lower)
	s.res.Add("Go heap per session", (heap1-heap0)/n, "B", report.Lower)
	s.res.Add("Go stack per session", (stack1-stack0)/n, "B", report.Lower)
	s.res.Add("RSS per session", float64(rss1-rss0)/n, "B", report.Lower)
	s.res.Add("idle CPU per session", s.res.ServerCPU/s.res.Seconds/n*1e6, "us/s", report.Lower)
	return nil
}

// mustCount is the workers' counters, or none on error.
func mustCount(ws []*gen.Worker) []gen.Stats {
	sts, _ := do(ws, gen.CmdCount)
	return sts
}

// pubFirst is the connection number of the first publisher.
const pubFirst = 1 << 20

// fanoutWorkers starts the subscribers (on urls, or the session's server)
// and the publishers of a fanout, publishers on a completion board: a
// publication stays in its publisher's window until every subscriber it
// matches has it.
func (s *session) fanoutWorkers(p params, urls []string) (subs, pubs []*gen.Worker, err error) {
	g := groups(p.Share)
	board, err := gen.NewBoard(pubFirst, p.Pubs)
	if err != nil {
		return nil, nil, err
	}
	defer board.Close() // the workers hold their own descriptors
	sub := gen.Spec{Role: gen.RoleSubscriber, Count: p.Subs, Concurrency: p.Concurrency, Topics: subTopics(p), Groups: g, URLs: urls}
	board.Subscribers(&sub)
	if subs, _, err = s.spawn(sub); err != nil {
		return nil, nil, err
	}
	pub := gen.Spec{Role: gen.RolePublisher, Count: p.Pubs, Target: gen.TargetGroup, Groups: g,
		Window: p.Window, Rate: p.Rate, Pad: p.Pad, First: pubFirst, URLs: urls}
	board.Publishers(&pub, groupSizes(p.Subs, g))
	if pubs, _, err = s.spawn(pub); err != nil {
		return nil, nil, err
	}
	return subs, pubs, nil
}

// checkComplete fails when a subscriber received a publication the
// board did not expect (a duplicate, or one for another slot).
func checkComplete(subs, pubs []*gen.Worker) (maxInflight int64, err error) {
	st, err := do(subs, gen.CmdCount)
	if err != nil {
		return 0, err
	}
	if n := sum(st).Stale; n != 0 {
		return 0, fmt.Errorf("%d deliveries the completion board did not expect (duplicates?)", n)
	}
	ps, err := do(pubs, gen.CmdCount)
	if err != nil {
		return 0, err
	}
	for _, p := range ps {
		maxInflight = max(maxInflight, p.MaxInflight)
	}
	return maxInflight, nil
}

func runFanout(s *session, p params) error {
	g := groups(p.Share)
	subs, pubs, err := s.fanoutWorkers(p, nil)
	if err != nil {
		return err
	}
	if _, err := do(pubs, gen.CmdStart); err != nil {
		return err
	}
	time.Sleep(p.Warmup)
	if _, err := do(subs, gen.CmdReset); err != nil {
		return err
	}
	c0, err := do(subs, gen.CmdCount)
	if err != nil {
		return err
	}
	m0, err := s.srv.mallocs(s.h.ctx)
	if err != nil {
		return err
	}
	a := s.snap()
	wait := s.profileWindow(p.Duration)
	time.Sleep(p.Duration)
	b := s.snap()
	st, err := do(subs, gen.CmdStats)
	if err != nil {
		return err
	}
	m1, err := s.srv.mallocs(s.h.ctx)
	if err != nil {
		return err
	}
	wait()
	ps, err := do(pubs, gen.CmdStop)
	if err != nil {
		return err
	}
	if err := s.window(a, b); err != nil {
		return err
	}
	want := expected(sum(ps), groupSizes(p.Subs, g))
	if err := drain(subs, want, 60*time.Second); err != nil {
		return fmt.Errorf("fanout: %w", err)
	}
	inflight, err := checkComplete(subs, pubs)
	if err != nil {
		return fmt.Errorf("fanout: %w", err)
	}
	s.res.Add("publications in flight per publisher at most", float64(inflight), "n", report.Neither)
	d := float64(sum(st).Deliveries - sum(c0).Deliveries)
	s.res.Add("deliveries/s", d/s.res.Seconds, "1/s", report.Higher)
	s.addPerCPU("deliveries per server CPU-s", d)
	if s.res.ServerCPU >= 0.01 && d > 0 {
		s.res.Add("server CPU per delivery", s.res.ServerCPU/d*1e9, "ns", report.Lower)
	}
	s.res.Add("deliveries total (all delivered)", float64(want), "n", report.Neither)
	if d > 0 {
		// Publications and the scrapes allocate too: this bounds the
		// allocations per delivery from above.
		s.res.Add("server allocations per delivery", (m1-m0)/d, "allocs", report.Lower)
	}
	s.addLatency("publish-to-deliver", gen.MergeLatency(st, false))
	return nil
}

func runBurst(s *session, p params) error {
	subs, _, err := s.spawn(gen.Spec{Role: gen.RoleSubscriber, Count: p.Subs, Concurrency: p.Concurrency,
		Topics: subTopics(p), Groups: 1})
	if err != nil {
		return err
	}
	pubs, _, err := s.spawn(gen.Spec{Role: gen.RolePublisher, Count: 1, Target: gen.TargetGroup, Groups: 1,
		Pad: p.Pad, First: pubFirst})
	if err != nil {
		return err
	}
	last := gen.NewHistogram()
	a := s.snap()
	for i := range p.Bursts {
		if _, err := do(subs, gen.CmdReset); err != nil {
			return err
		}
		if _, err := do(pubs, gen.CmdBurst); err != nil {
			return err
		}
		if err := drain(subs, int64(i+1)*int64(p.Subs), 30*time.Second); err != nil {
			return fmt.Errorf("burst %d: %w", i, err)
		}
		st, err := do(subs, gen.CmdStats)
		if err != nil {
			return err
		}
		last.RecordValue(gen.MergeLatency(st, false).Max())
	}
	b := s.snap()
	if err := s.window(a, b); err != nil {
		return err
	}
	us := func(v int64) float64 { return float64(v) / 1e3 }
	s.res.Add("last delivery p50", us(last.ValueAtQuantile(50)), "us", report.Lower)
	s.res.Add("last delivery max", us(last.Max()), "us", report.Lower)
	s.res.Add("server CPU per burst", s.res.ServerCPU/float64(p.Bursts)*1e6, "us", report.Lower)
	return nil
}

func runRPC(s *session, p params) error {
	callers, _, err := s.spawn(gen.Spec{Role: gen.RoleCaller, Count: p.Callers, Window: p.CallWindow, Pad: p.Pad,
		Concurrency: p.Concurrency})
	if err != nil {
		return err
	}
	return s.measure(callers, nil, nil, 0, p)
}

func runMixed(s *session, p params) error {
	browsers, _, err := s.spawn(gen.Spec{Role: gen.RoleSubscriber, Count: p.Browsers, Concurrency: p.Concurrency,
		Topics: gen.TopicsMixed, Groups: p.Groups})
	if err != nil {
		return err
	}
	pubs, _, err := s.spawn(gen.Spec{Role: gen.RolePublisher, Count: p.Backends, Target: gen.TargetMixed,
		Groups: p.Groups, Users: p.Browsers, Rate: p.MixedRate, Pad: p.Pad, First: 1 << 20})
	if err != nil {
		return err
	}
	callers, _, err := s.spawn(gen.Spec{Role: gen.RoleCaller, Count: p.MixedCallers, Window: p.CallWindow,
		Pad: p.Pad, First: 2 << 20})
	if err != nil {
		return err
	}
	return s.measure(callers, pubs, browsers, p.Groups, p)
}

// measure runs callers and publishers for the warm-up and the window and
// records the call figures and, with subscribers, the delivery figures;
// after the window it stops them and checks that every call was answered
// and every publication delivered to each receiver it matches.
func (s *session) measure(callers, pubs, subs []*gen.Worker, groupCount int, p params) error {
	active := append(append([]*gen.Worker(nil), callers...), pubs...)
	if _, err := do(active, gen.CmdStart); err != nil {
		return err
	}
	time.Sleep(p.Warmup)
	if _, err := do(s.workers, gen.CmdReset); err != nil {
		return err
	}
	c0, err := do(callers, gen.CmdCount)
	if err != nil {
		return err
	}
	d0, err := do(subs, gen.CmdCount)
	if err != nil {
		return err
	}
	a := s.snap()
	wait := s.profileWindow(p.Duration)
	time.Sleep(p.Duration)
	b := s.snap()
	st, err := do(callers, gen.CmdStats)
	if err != nil {
		return err
	}
	ds, err := do(subs, gen.CmdStats)
	if err != nil {
		return err
	}
	wait()
	if err := s.window(a, b); err != nil {
		return err
	}
	cs, err := do(callers, gen.CmdStop)
	if err != nil {
		return err
	}
	ps, err := do(pubs, gen.CmdStop)
	if err != nil {
		return err
	}
	if err := drain(callers, sum(cs).Sent, 30*time.Second); err != nil {
		return fmt.Errorf("calls: %w", err)
	}
	if len(subs) > 0 {
		want := expected(sum(ps), groupSizes(sum(mustCount(subs)).Conns, groupCount))
		if err := drain(subs, want, 60*time.Second); err != nil {
			return fmt.Errorf("deliveries: %w", err)
		}
		d := float64(sum(ds).Deliveries - sum(d0).Deliveries)
		s.res.Add("deliveries/s", d/s.res.Seconds, "1/s", report.Higher)
		s.addPerCPU("deliveries per server CPU-s", d)
		s.res.Add("deliveries total (all delivered)", float64(want), "n", report.Neither)
		s.addLatency("publish-to-deliver", gen.MergeLatency(ds, false))
	}
	n := float64(sum(st).Results - sum(c0).Results)
	s.res.Add("calls/s", n/s.res.Seconds, "1/s", report.Higher)
	s.addPerCPU("calls per server CPU-s", n)
	s.addLatency("call", gen.MergeLatency(st, false))
	return nil
}
