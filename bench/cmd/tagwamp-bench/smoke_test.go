package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/bench/internal/gen"
	"github.com/tagwamp/tagwamp/bench/internal/report"
)

// TestMain lets this test binary serve as the harness's worker processes.
func TestMain(m *testing.M) {
	if os.Getenv(gen.WorkerEnv) != "" {
		gen.WorkerMain()
	}
	if role := os.Getenv(floorEnv); role != "" {
		floorMain(role)
	}
	os.Exit(m.Run())
}

// TestSmoke runs the smoke suite (every scenario, small N, well under a
// second of load each) against the real servers, built from this tree,
// so that the harness cannot rot. At most 25 connections per generator
// process spreads every scenario over several worker processes and four
// source addresses. The peer is built from the module cache
// only (GOPROXY=off); when it cannot be, its runs are skipped and said so.
// It asserts counts, never timings: every scenario checks itself that each
// publication reached every subscriber it matches and each call was
// answered (a shortfall fails the run), and here each result must be
// error-free with non-empty histograms.
func TestSmoke(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	jsonFile := filepath.Join(out, "results.json")
	charts := filepath.Join(out, "charts")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	// The servers on ports from 23000 (below any ephemeral range).
	status := run(ctx, []string{"-suite", "smoke", "-sources", "4", "-procs-max", "25", "-out", out, "-port-base", "23000"}, &stdout, &stderr)
	if status != 0 {
		t.Fatalf("status %d\nstderr:\n%s\nstdout:\n%s", status, stderr.String(), stdout.String())
	}
	servers := []string{"tagwamp", "peer"}
	if strings.Contains(stderr.String(), "SKIPPING the peer") {
		t.Logf("the peer was not measured (it does not build offline here):\n%s", stderr.String())
		servers = servers[:1]
	}
	rep := readReport(t, jsonFile)
	runs, _ := suiteRuns("smoke", params{})
	var order []string // the server of each result: floor runs once, on none
	for _, r := range runs {
		if r.scenario == "floor" {
			order = append(order, floorServer)
		} else {
			order = append(order, servers...)
		}
	}
	if len(rep.Results) != len(order) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(order))
	}
	metric := func(r *report.Result, name string) float64 {
		t.Helper()
		m, ok := r.Metric(name)
		if !ok {
			t.Fatalf("%s on %s: no %q in %+v", r.Name, r.Server, name, r.Metrics)
		}
		return m.Value
	}
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Err != "" {
			t.Errorf("%s on %s: %s", r.Name, r.Server, r.Err)
			continue
		}
		if r.Server != order[i] {
			t.Errorf("result %d is from %s, want %s", i, r.Server, order[i])
		}
		if r.Seconds <= 0 || r.ServerRSS <= 0 {
			t.Errorf("%s on %s: window %vs, RSS %d", r.Name, r.Server, r.Seconds, r.ServerRSS)
		}
		switch r.Scenario {
		case "connect":
			if n := metric(r, "connect samples"); n != 50 {
				t.Errorf("%s on %s: %v connect latencies, want 50", r.Name, r.Server, n)
			}
		case "idle":
			if n := metric(r, "sessions"); n != 50 {
				t.Errorf("%s on %s: %v sessions, want 50", r.Name, r.Server, n)
			}
			if metric(r, "Go heap+stack per session") <= 0 || metric(r, "RSS per session") == 0 {
				t.Errorf("%s on %s: no memory measured: %+v", r.Name, r.Server, r.Metrics)
			}
		case "fanout":
			if metric(r, "deliveries total (all delivered)") <= 0 || metric(r, "publish-to-deliver samples") <= 0 ||
				metric(r, "deliveries/s") <= 0 {
				t.Errorf("%s on %s: nothing delivered: %+v", r.Name, r.Server, r.Metrics)
			}
			// Completion-based windows: never more incomplete publications
			// per publisher than the window.
			if n, w := metric(r, "publications in flight per publisher at most"), r.Params["window"].(float64); n < 1 || n > w {
				t.Errorf("%s on %s: %v publications in flight, window %v", r.Name, r.Server, n, w)
			}
		case "burst":
			if metric(r, "last delivery max") <= 0 {
				t.Errorf("%s on %s: no delivery time", r.Name, r.Server)
			}
		case "rpc", "floor":
			if metric(r, "call samples") <= 0 || metric(r, "calls/s") <= 0 {
				t.Errorf("%s on %s: no calls answered", r.Name, r.Server)
			}
		case "mixed":
			if metric(r, "call samples") <= 0 || metric(r, "publish-to-deliver samples") <= 0 {
				t.Errorf("%s on %s: no calls or no deliveries", r.Name, r.Server)
			}
		default:
			t.Errorf("unexpected scenario %q", r.Scenario)
		}
	}
	for _, want := range []string{"== connect conns=50", "== fanout subs=40 share=0.5", "topics=per-sub", "topics=shared",
		"server CPU s", "generator CPU s", "load average at start"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
	svgs, _ := filepath.Glob(filepath.Join(charts, "*.svg"))
	if len(svgs) == 0 {
		t.Errorf("no charts in %s", charts)
	}
	for _, f := range []string{"table.txt", "log.txt", "charts/summary-tagwamp-vs-peer.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("-out: %v", err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(out, "table.txt")); string(b) != stdout.String() {
		t.Errorf("table.txt differs from the table printed")
	}

	// The saved results replot to the same table.
	var replotted bytes.Buffer
	if st := run(ctx, []string{"-from-json", jsonFile, "-charts", filepath.Join(dir, "again")}, &replotted, &stderr); st != 0 {
		t.Fatalf("-from-json: status %d: %s", st, stderr.String())
	}
	if replotted.String() != stdout.String() {
		t.Errorf("-from-json table differs:\n%s\nwant\n%s", replotted.String(), stdout.String())
	}
}

// TestSmokeCluster runs the cluster scenario (one node beside three joined
// by nats-server) and a small million scenario (60 sessions over three
// nodes) with a few connections, so that both cannot rot. They need
// nats-server: without it the test is skipped and says so, except under
// CI=true, where it fails. Counts only, never timings: each scenario
// checks itself that every publication reached every matching session.
func TestSmokeCluster(t *testing.T) {
	if _, err := findNATS(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skipf("SKIPPING the cluster scenarios: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	jsonFile := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	status := run(ctx, []string{"-servers", "tagwamp", "-sources", "4", "-procs-max", "25", "-nodes", "3",
		"-subs", "30", "-share", "0.5", "-pubs", "3", "-window", "2", "-duration", "300ms", "-warmup", "100ms", "-rounds", "2",
		"-conns", "60", "-shards", "8", "-bursts", "2", "-concurrency", "16", "-json", jsonFile, "cluster", "million"}, &stdout, &stderr)
	if status != 0 {
		t.Fatalf("status %d\nstderr:\n%s\nstdout:\n%s", status, stderr.String(), stdout.String())
	}
	rep := readReport(t, jsonFile)
	if len(rep.Results) != 2 {
		t.Fatalf("%d results, want 2 (cluster, million)", len(rep.Results))
	}
	for _, tt := range []struct {
		scenario string
		metrics  map[string]float64 // name: exact value, or -1 for any positive value
	}{
		{"cluster", map[string]float64{
			"1 node: deliveries/s": -1, "3 nodes: deliveries/s": -1,
			"1 node: publish-to-deliver samples": -1, "3 nodes: publish-to-deliver samples": -1,
			"1 node: deliveries total (all delivered)": -1, "3 nodes: deliveries total (all delivered)": -1,
			"3 nodes: NATS out msgs": -1,
		}},
		{"million", map[string]float64{
			"sessions": 60, "tagwamp processes": 3, "time to connect all": -1, "servers RSS per session (total)": -1,
			"publication to one in 8: matching sessions (all delivered)": 7,
			"publication to all: matching sessions (all delivered)":      60,
			"publication to all: last delivery max":                      -1,
			"publication to all: NATS in msgs each":                      -1,
			"NATS subscriptions added":                                   -1,
		}},
	} {
		var r *report.Result
		for i := range rep.Results {
			if rep.Results[i].Scenario == tt.scenario {
				r = &rep.Results[i]
			}
		}
		if r == nil {
			t.Errorf("no %s result", tt.scenario)
			continue
		}
		if r.Err != "" {
			t.Errorf("%s: %s", r.Name, r.Err)
			continue
		}
		for name, want := range tt.metrics {
			m, ok := r.Metric(name)
			switch {
			case !ok:
				t.Errorf("%s: no %q in %+v", r.Name, name, r.Metrics)
			case want < 0 && m.Value <= 0, want >= 0 && m.Value != want:
				t.Errorf("%s: %s = %v, want %v", r.Name, name, m.Value, want)
			}
		}
	}
}

func TestPlanAndFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no scenario", nil, 2},
		{"unknown scenario", []string{"nope"}, 2},
		{"unknown suite", []string{"-suite", "huge"}, 2},
		{"suite and names", []string{"-suite", "smoke", "rpc"}, 2},
		{"bad server", []string{"-servers", "nginx", "rpc"}, 2},
		{"bad count", []string{"-conns", "0", "idle"}, 2},
		{"bad nodes", []string{"-nodes", "0", "cluster"}, 2},
		{"bad shards", []string{"-shards", "2", "million"}, 2},
		{"bad rounds", []string{"-rounds", "0", "cluster"}, 2},
		{"bad flag", []string{"-nope"}, 2},
		{"bad topics", []string{"-topics", "mine", "fanout"}, 2},
		{"window above the board", []string{"-window", "600", "fanout"}, 2},
		{"fewer subscribers than groups", []string{"-subs", "5", "-share", "0.1", "fanout"}, 2},
		{"bad addr", []string{"-addr", "localhost", "-servers", "tagwamp", "-duration", "1ms", "rpc"}, 1},
		{"bad port base", []string{"-port-base", "65500", "-servers", "tagwamp", "-duration", "1ms", "rpc"}, 1},
		{"over the committed json", []string{"-json", "../../results.json", "rpc"}, 2},
		{"over the committed charts", []string{"-charts", "../../charts", "rpc"}, 2},
		{"over the committed folder", []string{"-out", "../..", "rpc"}, 2},
		{"help", []string{"-h"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if got := run(context.Background(), tt.args, &out, &errb); got != tt.want {
				t.Fatalf("status %d, want %d; stderr %s", got, tt.want, errb.String())
			}
		})
	}
	if runs, err := plan("", []string{"fanout", "burst"}, params{}); err != nil || runs[1].scenario != "burst" {
		t.Fatalf("plan: %v %v", runs, err)
	}
	runs, err := plan("", []string{"all"}, params{})
	if err != nil || len(runs) != len(scenarioOrder) {
		t.Fatalf("all: %v, %d runs", err, len(runs))
	}
	for _, s := range []string{"standard", "smoke"} {
		runs, err := suiteRuns(s, params{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range runs {
			seen[r.scenario] = true
		}
		if len(seen) != len(scenarioOrder) {
			t.Errorf("suite %s covers %v, want every scenario", s, seen)
		}
	}
}

// TestPorts: with a base, the ports are taken in turn from it, each free
// when handed out.
func TestPorts(t *testing.T) {
	pt := &ports{host: "127.0.0.1", base: 23400}
	seen := map[string]bool{}
	for range 5 {
		a, err := pt.free()
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(a)
		if n, _ := strconv.Atoi(port); n < 23400 || n >= 23400+portSpan || seen[a] {
			t.Fatalf("port %s: out of range or handed out twice", a)
		}
		seen[a] = true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, busy, _ := net.SplitHostPort(ln.Addr().String())
	n, _ := strconv.Atoi(busy)
	if n+portSpan > 65535 {
		t.Skip("listener port too high to start a span at")
	}
	pt = &ports{host: "127.0.0.1", base: n}
	if a, err := pt.free(); err != nil || a == ln.Addr().String() {
		t.Fatalf("free() = %s, %v: the busy port, or none", a, err)
	}
}

func TestServerEnv(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"GOMAXPROCS=1", []string{"GOMAXPROCS=1"}, true},
		{"GOMAXPROCS=1,GOGC=off", []string{"GOMAXPROCS=1", "GOGC=off"}, true},
		{"GODEBUG=a=1", []string{"GODEBUG=a=1"}, true},
		{"GOMAXPROCS", nil, false},
		{"=1", nil, false},
		{"A B=1", nil, false},
		{"A=1,", nil, false},
	} {
		got, err := serverEnv(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("serverEnv(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestExpected(t *testing.T) {
	if got := groupSizes(10, 3); got[0] != 4 || got[1] != 3 || got[2] != 3 {
		t.Fatalf("groupSizes(10, 3) = %v", got)
	}
	st := gen.Stats{SentGroup: []int64{2, 1, 0}, SentPersonal: 5}
	if got := expected(st, groupSizes(10, 3)); got != 2*4+1*3+5 {
		t.Fatalf("expected = %d", got)
	}
	for share, want := range map[float64]int{1: 1, 0.5: 2, 0.1: 10, 0.3: 3, 0: 1} {
		if got := groups(share); got != want {
			t.Errorf("groups(%v) = %d, want %d", share, got, want)
		}
	}
}

// readReport reads the harness's JSON output.
func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestLoops: publishers run one epoll loop per generator process;
// callers one and subscribers two unless -loops says otherwise.
func TestLoops(t *testing.T) {
	for _, tc := range []struct {
		role       gen.Role
		flag, want int
	}{
		{gen.RoleCaller, 0, 1}, {gen.RolePublisher, 0, 1}, {gen.RoleSubscriber, 0, 2},
		{gen.RoleCaller, 2, 2}, {gen.RolePublisher, 2, 1}, {gen.RoleSubscriber, 1, 1},
	} {
		if got := loops(tc.role, tc.flag); got != tc.want {
			t.Errorf("loops(%s, %d) = %d, want %d", tc.role, tc.flag, got, tc.want)
		}
	}
}
