package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tagwamp/tagwamp/bench/internal/gen"
	"github.com/tagwamp/tagwamp/bench/internal/report"
	"github.com/tagwamp/tagwamp/bench/internal/sysstat"
	"github.com/tagwamp/tagwamp/bench/internal/wire"
)

// kernelMem is the kernel's memory figures that grow with sockets.
type kernelMem struct {
	slab, unreclaim int64 // /proc/meminfo Slab, SUnreclaim, bytes
	tcpMem          int64 // /proc/net/sockstat TCP mem, bytes (pages of socket buffers)
	tcpInuse        int64 // /proc/net/sockstat TCP inuse
	sockets         int64 // /proc/net/sockstat sockets: used
}

// readKernelMem reads /proc/meminfo and /proc/net/sockstat.
func readKernelMem() (kernelMem, error) {
	var k kernelMem
	mi, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return k, err
	}
	sc := bufio.NewScanner(bytes.NewReader(mi))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "Slab:":
			k.slab = v << 10
		case "SUnreclaim:":
			k.unreclaim = v << 10
		}
	}
	ss, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return k, err
	}
	sc = bufio.NewScanner(bytes.NewReader(ss))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for i := 1; i+1 < len(f); i += 2 {
			v, _ := strconv.ParseInt(f[i+1], 10, 64)
			switch {
			case f[0] == "sockets:" && f[i] == "used":
				k.sockets = v
			case f[0] == "TCP:" && f[i] == "inuse":
				k.tcpInuse = v
			case f[0] == "TCP:" && f[i] == "mem":
				k.tcpMem = v * int64(os.Getpagesize())
			}
		}
	}
	return k, nil
}

// workersRSS is the resident memory of ws added up.
func workersRSS(ws []*gen.Worker) int64 {
	var t int64
	for _, w := range ws {
		v, _ := sysstat.RSS(w.Pid())
		t += v
	}
	return t
}

// runMillion is the million-session run at -conns sessions: -nodes tagwamp
// nodes (begun by the harness) joined by one nats-server, every session
// subscribed to one topic tagged with a tag all hold and one of -shards
// shard tags, spread over the nodes; then -bursts publications, one at a
// time, to one shard's tag (one session in -shards) and as many to the
// tag all hold, each timed from the publication to its last delivery,
// every matching session counted.
func runMillion(s *session, p params) error {
	ctx, c := s.h.ctx, s.cluster
	n := p.Conns
	k0, err := readKernelMem()
	if err != nil {
		return err
	}
	rss0, err := c.rss()
	if err != nil {
		return err
	}
	nats0, _ := sysstat.RSS(c.nats.cmd.Process.Pid)
	v0, err := c.nats.varz(ctx)
	if err != nil {
		return err
	}
	subs0, err := c.nats.subscriptions(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.h.log, "  connecting %d sessions to %d nodes...\n", n, len(c.nodes))
	t0 := time.Now()
	stopProgress := s.progress(c, k0, t0)
	defer stopProgress()
	subs, sts, err := s.spawn(gen.Spec{Role: gen.RoleSubscriber, Count: n, Concurrency: p.Concurrency,
		Topics: gen.TopicsShard, Groups: p.Shards, URLs: c.urls()})
	if err != nil {
		return err
	}
	connectAll := time.Since(t0).Seconds()
	stopProgress()
	fmt.Fprintf(s.h.log, "  connected in %.1f s; settling...\n", connectAll)
	time.Sleep(3 * time.Second) // let the setup's buffers go and the nodes' interest reach NATS
	v1, err := c.nats.varz(ctx)
	if err != nil {
		return err
	}
	subs1, err := c.nats.subscriptions(ctx)
	if err != nil {
		return err
	}
	k1, err := readKernelMem()
	if err != nil {
		return err
	}
	rss1, err := c.rss()
	if err != nil {
		return err
	}
	nats1, _ := sysstat.RSS(c.nats.cmd.Process.Pid)
	genRSS := workersRSS(subs)
	t := sum(mustCount(subs))
	if t.Closed != 0 || t.Conns != n {
		return fmt.Errorf("%d of %d sessions open, %d closed by the server", t.Conns-int(t.Closed), n, t.Closed)
	}
	fn := float64(n)
	r := s.res
	r.Add("sessions", fn, "n", report.Neither)
	r.Add("tagwamp processes", float64(len(c.nodes)), "n", report.Neither)
	r.Add("generator processes", float64(len(subs)), "n", report.Neither)
	r.Add("time to connect all", connectAll, "s", report.Lower)
	r.Add("connections/s", fn/connectAll, "1/s", report.Higher)
	s.addLatency("connect", gen.MergeLatency(sts, true))
	r.Add("servers RSS total", float64(rss1)/(1<<20), "MiB", report.Lower)
	r.Add("servers RSS per session (total)", float64(rss1)/fn, "B", report.Lower)
	r.Add("servers RSS per session (growth)", float64(rss1-rss0)/fn, "B", report.Lower)
	r.Add("generator RSS per session", float64(genRSS)/fn, "B", report.Lower)
	r.Add("nats-server RSS", float64(nats1)/(1<<20), "MiB", report.Lower)
	r.Add("nats-server RSS growth", float64(nats1-nats0)/(1<<20), "MiB", report.Lower)
	socks := float64(k1.tcpInuse - k0.tcpInuse)
	r.Add("TCP sockets added", socks, "n", report.Neither)
	if socks > 0 {
		r.Add("kernel slab per socket", float64(k1.slab-k0.slab)/socks, "B", report.Lower)
		r.Add("kernel unreclaimable slab per socket", float64(k1.unreclaim-k0.unreclaim)/socks, "B", report.Lower)
		r.Add("kernel TCP buffer memory per socket", float64(k1.tcpMem-k0.tcpMem)/socks, "B", report.Lower)
	}
	r.Add("kernel slab growth", float64(k1.slab-k0.slab)/(1<<20), "MiB", report.Lower)
	r.Add("kernel slab per session (growth / sessions)", float64(k1.slab-k0.slab)/fn, "B", report.Lower)
	r.Add("NATS subscriptions added", float64(subs1-subs0), "n", report.Neither)
	d := v1.sub(v0)
	r.Add("NATS setup in msgs", float64(d.InMsgs), "n", report.Neither)
	r.Add("NATS setup in bytes", float64(d.InBytes), "B", report.Neither)
	r.Add("NATS setup out msgs", float64(d.OutMsgs), "n", report.Neither)
	r.Add("NATS setup out bytes", float64(d.OutBytes), "B", report.Neither)

	a := s.snap()
	var delivered int64
	for _, pub := range []struct {
		name  string
		topic string
		want  int64
	}{
		{"one in " + strconv.Itoa(p.Shards), tagwampProto.ShardGroup(7 % p.Shards), groupSizes(n, p.Shards)[7%p.Shards]},
		{"all", tagwampProto.ShardAll(), int64(n)},
	} {
		pw, _, err := s.spawn(gen.Spec{Role: gen.RolePublisher, Count: 1, Target: gen.TargetTopic, Topic: pub.topic,
			Pad: p.Pad, First: 1 << 30, URLs: c.urls()[:1]})
		if err != nil {
			return err
		}
		last := gen.NewHistogram()
		wall := gen.NewHistogram()
		va, err := c.nats.varz(ctx)
		if err != nil {
			return err
		}
		for i := range p.Bursts {
			if _, err := do(subs, gen.CmdReset); err != nil {
				return err
			}
			start := time.Now()
			if _, err := do(pw, gen.CmdBurst); err != nil {
				return err
			}
			delivered += pub.want
			if err := drain(subs, delivered, 5*time.Minute); err != nil {
				return fmt.Errorf("publication to %s, %d: %w", pub.name, i, err)
			}
			wall.RecordValue(int64(time.Since(start)))
			st, err := do(subs, gen.CmdStats)
			if err != nil {
				return err
			}
			last.RecordValue(gen.MergeLatency(st, false).Max())
		}
		vb, err := c.nats.varz(ctx)
		if err != nil {
			return err
		}
		us := func(v int64) float64 { return float64(v) / 1e3 }
		pre := "publication to " + pub.name + ": "
		r.Add(pre+"matching sessions (all delivered)", float64(pub.want), "n", report.Neither)
		r.Add(pre+"last delivery p50", us(last.ValueAtQuantile(50)), "us", report.Lower)
		r.Add(pre+"last delivery max", us(last.Max()), "us", report.Lower)
		r.Add(pre+"harness wall time to all counted max", us(wall.Max()), "us", report.Lower)
		dv := vb.sub(va)
		b := float64(p.Bursts)
		r.Add(pre+"NATS in msgs each", float64(dv.InMsgs)/b, "n", report.Neither)
		r.Add(pre+"NATS out msgs each", float64(dv.OutMsgs)/b, "n", report.Neither)
		r.Add(pre+"NATS in bytes each", float64(dv.InBytes)/b, "B", report.Neither)
		r.Add(pre+"NATS out bytes each", float64(dv.OutBytes)/b, "B", report.Neither)
	}
	bsn := s.snap()
	return s.window(a, bsn)
}

// progress logs, every 5 s until stopped, the box's available memory,
// the nodes' RSS and the kernel's slab growth since k0: where the memory
// goes while the sessions connect.
func (s *session) progress(c *cluster, k0 kernelMem, t0 time.Time) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			k, _ := readKernelMem()
			rss, _ := c.rss()
			fmt.Fprintf(s.h.log, "  %4.0fs: MemAvailable %d MiB, servers RSS %d MiB, kernel slab +%d MiB (unreclaimable +%d MiB), TCP sockets in use +%d\n",
				time.Since(t0).Seconds(), memAvailable()>>20, rss>>20, (k.slab-k0.slab)>>20, (k.unreclaim-k0.unreclaim)>>20, k.tcpInuse-k0.tcpInuse)
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}

// memAvailable is /proc/meminfo MemAvailable in bytes (0 if unknown).
func memAvailable() int64 {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// fanoutRound is one fanout measurement on the servers at urls.
type fanoutRound struct {
	deliveries, seconds, cpu float64
	want                     int64
	hist                     *gen.Histogram
}

// fanoutOn runs one fanout (subscribers and publishers spread over urls,
// warm-up, window, stop, the completeness check) and closes its workers;
// cpu reads the servers' CPU seconds.
func (s *session) fanoutOn(urls []string, p params, cpu func() (float64, error)) (fanoutRound, error) {
	var out fanoutRound
	g := groups(p.Share)
	before := len(s.workers)
	defer func() {
		for _, w := range s.workers[before:] {
			w.Close()
		}
		s.workers = s.workers[:before]
	}()
	subs, pubs, err := s.fanoutWorkers(p, urls)
	if err != nil {
		return out, err
	}
	if _, err := do(pubs, gen.CmdStart); err != nil {
		return out, err
	}
	time.Sleep(p.Warmup)
	if _, err := do(subs, gen.CmdReset); err != nil {
		return out, err
	}
	c0, err := do(subs, gen.CmdCount)
	if err != nil {
		return out, err
	}
	cpu0, err := cpu()
	if err != nil {
		return out, err
	}
	t0 := time.Now()
	time.Sleep(p.Duration)
	st, err := do(subs, gen.CmdStats)
	if err != nil {
		return out, err
	}
	out.seconds = time.Since(t0).Seconds()
	cpu1, err := cpu()
	if err != nil {
		return out, err
	}
	ps, err := do(pubs, gen.CmdStop)
	if err != nil {
		return out, err
	}
	out.want = expected(sum(ps), groupSizes(p.Subs, g))
	if err := drain(subs, out.want, 60*time.Second); err != nil {
		return out, err
	}
	if _, err := checkComplete(subs, pubs); err != nil {
		return out, err
	}
	out.deliveries = float64(sum(st).Deliveries - sum(c0).Deliveries)
	out.cpu = cpu1 - cpu0
	out.hist = gen.MergeLatency(st, false)
	return out, nil
}

// runCluster measures fanout on one tagwamp node (the session's server)
// and on -nodes nodes joined by one nats-server (subscribers and
// publishers spread over the nodes, connection i on node i mod nodes), in
// -rounds alternating rounds, each a fresh set of connections with its
// own warm-up, window and completeness check.
func runCluster(s *session, p params) error {
	c, err := s.h.builds.startCluster(s.h.ctx, p.Nodes)
	if err != nil {
		return err
	}
	defer c.stop()
	single := []string{"ws://" + s.srv.addr}
	type total struct {
		fanoutRound
		rounds int
	}
	var one, many total
	one.hist, many.hist = gen.NewHistogram(), gen.NewHistogram()
	add := func(t *total, r fanoutRound) {
		t.deliveries += r.deliveries
		t.seconds += r.seconds
		t.cpu += r.cpu
		t.want += r.want
		t.hist.Merge(r.hist)
		t.rounds++
	}
	v0, err := c.nats.varz(s.h.ctx)
	if err != nil {
		return err
	}
	a := s.snap()
	for i := range p.Rounds {
		for _, on := range []string{"single", "cluster"} {
			if i%2 == 1 { // alternate which goes first
				on = map[string]string{"single": "cluster", "cluster": "single"}[on]
			}
			var r fanoutRound
			var err error
			if on == "single" {
				r, err = s.fanoutOn(single, p, s.srv.cpu)
			} else {
				r, err = s.fanoutOn(c.urls(), p, c.cpu)
			}
			if err != nil {
				return fmt.Errorf("round %d on %s: %w", i, on, err)
			}
			if on == "single" {
				add(&one, r)
			} else {
				add(&many, r)
			}
		}
	}
	b := s.snap()
	if err := s.window(a, b); err != nil {
		return err
	}
	v1, err := c.nats.varz(s.h.ctx)
	if err != nil {
		return err
	}
	nodes := strconv.Itoa(p.Nodes) + " nodes"
	for _, x := range []struct {
		name string
		t    total
	}{{"1 node", one}, {nodes, many}} {
		s.res.Add(x.name+": deliveries/s", x.t.deliveries/x.t.seconds, "1/s", report.Higher)
		if x.t.cpu >= 0.01 {
			s.res.Add(x.name+": deliveries per server CPU-s", x.t.deliveries/x.t.cpu, "1/cpu-s", report.Higher)
		}
		s.res.Add(x.name+": deliveries total (all delivered)", float64(x.t.want), "n", report.Neither)
		s.addLatency(x.name+": publish-to-deliver", x.t.hist)
	}
	s.res.Add(nodes+"/1 node: deliveries/s ratio", (many.deliveries/many.seconds)/(one.deliveries/one.seconds), "x", report.Higher)
	d := v1.sub(v0)
	s.res.Add(nodes+": NATS in msgs", float64(d.InMsgs), "n", report.Neither)
	s.res.Add(nodes+": NATS out msgs", float64(d.OutMsgs), "n", report.Neither)
	return nil
}

// tagwampProto builds tagwamp's topics.
var tagwampProto, _ = wire.For(wire.Tagwamp)

// clusterScenarios need nats-server and speak tagwamp only.
var clusterScenarios = []string{"cluster", "million"}

func isCluster(name string) bool { return slices.Contains(clusterScenarios, name) }
