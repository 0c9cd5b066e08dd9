package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/tagwamp/tagwamp/bench/internal/gen"
	"github.com/tagwamp/tagwamp/bench/internal/report"
	"github.com/tagwamp/tagwamp/bench/internal/sysstat"
	"github.com/tagwamp/tagwamp/bench/internal/wire"
)

// harness is what every scenario run shares.
type harness struct {
	ctx        context.Context
	exe        string // this binary, re-executed as workers
	builds     *builds
	sources    []string // local addresses the workers dial from
	perProc    int      // connections per worker process at most
	loops      int      // -loops: epoll loops per caller and subscriber worker; 0: the role's default (loops)
	cpuprofile string   // save a server CPU profile of each measured window here ("" off)
	memprofile string   // save allocation profiles around each measured window here ("" off)
	log        io.Writer
}

// session is one scenario on one fresh server.
type session struct {
	h       *harness
	srv     *server
	cluster *cluster // nil but for the million scenario; then srv is its first node
	workers []*gen.Worker
	res     *report.Result
}

// begin starts a fresh server of kind for the scenario, or with nodes > 0
// a cluster of that many tagwamp nodes joined by one nats-server.
func (h *harness) begin(kind wire.Server, scenario, name string, params map[string]any, nodes int) (*session, error) {
	s := &session{h: h, res: &report.Result{Name: name, Scenario: scenario, Server: string(kind), Params: params}}
	params["procsMax"] = h.perProc
	if nodes > 0 {
		if kind != wire.Tagwamp {
			return nil, fmt.Errorf("%s runs on tagwamp only", scenario)
		}
		c, err := h.builds.startCluster(h.ctx, nodes)
		if err != nil {
			return nil, err
		}
		s.cluster, s.srv = c, c.nodes[0]
		return s, nil
	}
	srv, err := h.builds.start(h.ctx, kind)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return s, nil
}

// close ends the workers, then the server.
func (s *session) close() {
	var wg sync.WaitGroup
	for _, w := range s.workers {
		wg.Go(func() { w.Close() })
	}
	wg.Wait()
	if s.cluster != nil {
		s.cluster.stop()
		return
	}
	s.srv.stop()
}

// spawn starts workers for spec, Count split into processes of at most
// perProc connections (each gets its First), all setting up at once.
func (s *session) spawn(spec gen.Spec) ([]*gen.Worker, []gen.Stats, error) {
	spec.Server = s.srv.kind
	if len(spec.URLs) == 0 {
		spec.URL = "ws://" + s.srv.addr
	}
	spec.Sources = s.h.sources
	spec.Loops = loops(spec.Role, s.h.loops)
	s.res.Params["loops_"+string(spec.Role)] = spec.Loops
	var specs []gen.Spec
	for first := 0; first < spec.Count; first += s.h.perProc {
		sp := spec
		sp.First = spec.First + first
		sp.Count = min(s.h.perProc, spec.Count-first)
		specs = append(specs, sp)
	}
	ws := make([]*gen.Worker, len(specs))
	sts := make([]gen.Stats, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, sp := range specs {
		wg.Go(func() { ws[i], sts[i], errs[i] = gen.StartWorker(s.h.ctx, s.h.exe, sp) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, w := range ws {
				if w != nil {
					w.Close()
				}
			}
			return nil, nil, err
		}
		s.workers = append(s.workers, ws[i])
	}
	return ws, sts, nil
}

// snap is the clocks at one instant.
type snap struct {
	t              time.Time
	server, gen    float64 // CPU seconds
	serverRSS      int64
	serverCPUError error
}

// snap reads the server's and the generator's CPU (every worker and this
// process).
func (s *session) snap() snap {
	sn := snap{t: time.Now()}
	if s.cluster != nil {
		sn.server, sn.serverCPUError = s.cluster.cpu()
		sn.serverRSS, _ = s.cluster.rss()
	} else {
		sn.server, sn.serverCPUError = s.srv.cpu()
		sn.serverRSS, _ = s.srv.rss()
	}
	self, _ := sysstat.CPUSeconds(os.Getpid())
	sn.gen = self
	for _, w := range s.workers {
		c, _ := sysstat.CPUSeconds(w.Pid())
		sn.gen += c
	}
	return sn
}

// window records a and b as the result's measured window.
func (s *session) window(a, b snap) error {
	if a.serverCPUError != nil || b.serverCPUError != nil {
		return fmt.Errorf("server CPU: %v %v", a.serverCPUError, b.serverCPUError)
	}
	s.res.Seconds = b.t.Sub(a.t).Seconds()
	s.res.ServerCPU = b.server - a.server
	s.res.GenCPU = b.gen - a.gen
	s.res.ServerRSS = b.serverRSS
	return nil
}

// do sends command to every worker in ws.
func do(ws []*gen.Worker, command string) ([]gen.Stats, error) {
	out := make([]gen.Stats, len(ws))
	for i, w := range ws {
		st, err := w.Do(command)
		if err != nil {
			return nil, err
		}
		out[i] = st
	}
	return out, nil
}

// sum adds the counters of sts.
func sum(sts []gen.Stats) gen.Stats {
	var t gen.Stats
	for _, s := range sts {
		t.Conns += s.Conns
		t.Closed += s.Closed
		t.Deliveries += s.Deliveries
		t.Echoes += s.Echoes
		t.Sent += s.Sent
		t.SentPersonal += s.SentPersonal
		t.Results += s.Results
		t.Errors += s.Errors
		t.Stale += s.Stale
		t.Completed += s.Completed
		for g, n := range s.SentGroup {
			for len(t.SentGroup) <= g {
				t.SentGroup = append(t.SentGroup, 0)
			}
			t.SentGroup[g] += n
		}
		t.SetupSeconds = max(t.SetupSeconds, s.SetupSeconds)
	}
	return t
}

// drain polls ws until their deliveries and results reach want, failing
// on more than want or on timeout.
func drain(ws []*gen.Worker, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		sts, err := do(ws, gen.CmdCount)
		if err != nil {
			return err
		}
		t := sum(sts)
		got := t.Deliveries + t.Results
		switch {
		case got == want:
			return nil
		case got > want:
			return fmt.Errorf("received %d, more than the %d expected", got, want)
		case time.Now().After(deadline):
			return fmt.Errorf("received %d of %d expected after %s (server closed %d connections)", got, want, timeout, t.Closed)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// addLatency adds p50, p99, p999 and max of h in microseconds, named with
// prefix.
func (s *session) addLatency(prefix string, h *gen.Histogram) {
	us := func(v int64) float64 { return float64(v) / 1e3 }
	s.res.Add(prefix+" p50", us(h.ValueAtQuantile(50)), "us", report.Lower)
	s.res.Add(prefix+" p99", us(h.ValueAtQuantile(99)), "us", report.Lower)
	s.res.Add(prefix+" p999", us(h.ValueAtQuantile(99.9)), "us", report.Lower)
	s.res.Add(prefix+" max", us(h.Max()), "us", report.Lower)
	s.res.Add(prefix+" samples", float64(h.TotalCount()), "n", report.Neither)
}

// profileWindow starts a server CPU profile of d and saves the first
// allocation profile, when asked; wait collects the CPU profile and saves
// the second allocation profile.
func (s *session) profileWindow(d time.Duration) (wait func()) {
	prefix := func(p string) string { return fmt.Sprintf("%s.%s.%s", p, s.res.Scenario, s.res.Server) }
	var ch <-chan error
	var cpuFile string
	if s.h.cpuprofile != "" {
		cpuFile = prefix(s.h.cpuprofile) + ".pprof"
		ch = s.srv.profile(s.h.ctx, d, cpuFile)
	}
	allocs := func(n int) {
		if s.h.memprofile == "" {
			return
		}
		file := fmt.Sprintf("%s.allocs%d.pprof", prefix(s.h.memprofile), n)
		// heap?gc=1 runs a GC first, which publishes the allocations made
		// so far: the allocation profile lags by a GC cycle otherwise.
		if err := s.srv.save(s.h.ctx, "/debug/pprof/heap?gc=1", file); err != nil {
			fmt.Fprintf(s.h.log, "allocation profile %s: %v\n", file, err)
			return
		}
		fmt.Fprintf(s.h.log, "allocation profile of %s on %s: %s\n", s.res.Scenario, s.res.Server, file)
	}
	allocs(0)
	return func() {
		allocs(1)
		if ch == nil {
			return
		}
		if err := <-ch; err != nil {
			fmt.Fprintf(s.h.log, "cpu profile %s: %v\n", cpuFile, err)
			return
		}
		fmt.Fprintf(s.h.log, "cpu profile of %s on %s: %s\n", s.res.Scenario, s.res.Server, cpuFile)
	}
}

// addPerCPU adds n per server CPU-second, unless the window's server CPU
// is below the clock tick (10ms) that /proc counts in.
func (s *session) addPerCPU(name string, n float64) {
	if s.res.ServerCPU >= 0.01 {
		s.res.Add(name, n/s.res.ServerCPU, "1/cpu-s", report.Higher)
	}
}
