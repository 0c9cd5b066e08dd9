package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tagwamp/tagwamp/bench/internal/gen"
	"github.com/tagwamp/tagwamp/bench/internal/report"
	"github.com/tagwamp/tagwamp/bench/internal/wire"
)

func main() {
	if os.Getenv(gen.WorkerEnv) != "" {
		gen.WorkerMain()
	}
	if role := os.Getenv(floorEnv); role != "" {
		floorMain(role)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the harness's own flags.
type options struct {
	suite, servers, jsonFile, charts, cpuprofile, memprofile, root, fromJSON string
	out, addr, updateDir, serverEnv                                          string
	update                                                                   bool
	perProc, sources, loops, portBase                                        int
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tagwamp-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var p params
	fs.StringVar(&o.suite, "suite", "", "run a predefined `suite` (standard, smoke) instead of named scenarios")
	fs.StringVar(&o.servers, "servers", "tagwamp,peer", "servers to measure, comma-separated: tagwamp, peer")
	fs.StringVar(&o.out, "out", "", "write the run into `dir` (created): results.json, table.txt (the table), log.txt (the progress) and charts/")
	fs.BoolVar(&o.update, "update", false, "also write the committed bench/results.json and bench/charts/ of the repository the harness runs in (never written otherwise)")
	fs.StringVar(&o.jsonFile, "json", "", "write the results as JSON to `file`")
	fs.StringVar(&o.charts, "charts", "", "draw SVG charts into `dir`")
	fs.StringVar(&o.addr, "addr", "127.0.0.1", "`IP` the servers listen on (a loopback address: the generator dials from -sources)")
	fs.IntVar(&o.portBase, "port-base", 0, "servers listen on free ports from `port` to port+199 (0: random free ports below the ephemeral range)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "save a server CPU profile of each measured window to `prefix`.<scenario>.<server>.pprof")
	fs.StringVar(&o.fromJSON, "from-json", "", "measure nothing: print the table and draw -charts from the results in `file`")
	fs.StringVar(&o.memprofile, "memprofile", "", "save the server's allocation profile (after a GC) at the start and end of each measured window to `prefix`.<scenario>.<server>.allocs{0,1}.pprof (compare with go tool pprof -base)")
	fs.StringVar(&o.root, "root", "", "repository root (default: found from the working directory)")
	fs.StringVar(&o.serverEnv, "server-env", "", "`KEY=VALUE[,KEY=VALUE...]` added to both servers' environment, e.g. GOMAXPROCS=1 (recorded as the runs' server_env)")
	fs.IntVar(&o.perProc, "procs-max", 19500, "connections per generator process at most; more spread over more processes")
	fs.IntVar(&o.sources, "sources", 16, "source addresses 127.0.0.2... the generator dials from, in turn")
	fs.IntVar(&o.loops, "loops", 0, "epoll loops (goroutines) per caller or subscriber generator process (0: one for callers, two for subscribers; publishers always run one)")
	fs.DurationVar(&p.Duration, "duration", 5*time.Second, "measured window")
	fs.DurationVar(&p.Warmup, "warmup", time.Second, "load before the window opens")
	fs.IntVar(&p.Conns, "conns", 1000, "connect, idle: sessions")
	fs.IntVar(&p.Concurrency, "concurrency", 64, "connection setups at once, per generator process")
	fs.DurationVar(&p.IdleWindow, "idle-window", 5*time.Second, "idle: how long idle CPU is measured")
	fs.IntVar(&p.Subs, "subs", 1000, "fanout, burst: subscribers")
	fs.Float64Var(&p.Share, "share", 1, "fanout: share of the subscribers one publication reaches (1/groups)")
	fs.StringVar(&p.Topics, "topics", topicsPerSub, "fanout, burst: `layout` of the subscriptions: per-sub (subscriber i on its own tag topic, group?g=G&user=i, published to group?g=G) or shared (every subscriber of a group on one topic string)")
	fs.IntVar(&p.Pubs, "pubs", 1, "fanout: publisher connections")
	fs.IntVar(&p.Window, "window", 8, "fanout: publications in flight per publisher: sent and not yet received by every subscriber they match")
	fs.Float64Var(&p.Rate, "rate", 0, "fanout: publications per second, all publishers (0: as fast as the window allows)")
	fs.IntVar(&p.Pad, "pad", 16, "payload padding in bytes")
	fs.IntVar(&p.Bursts, "bursts", 20, "burst: publications to every subscriber, one at a time")
	burst := fs.Bool("burst", false, "fanout in burst mode: the burst scenario (one publication to every subscriber, time to the last delivery)")
	fs.IntVar(&p.Callers, "callers", 1, "rpc: caller connections")
	fs.IntVar(&p.CallWindow, "call-window", 1, "rpc, mixed: calls in flight per caller")
	fs.IntVar(&p.FloorConns, "floor-conns", 1, "floor: client connections (rpc's -callers)")
	fs.IntVar(&p.FloorWindow, "floor-window", 1, "floor: round trips in flight per connection (rpc's -call-window)")
	fs.IntVar(&p.Browsers, "browsers", 1000, "mixed: browser sessions (personal and group subscriptions)")
	fs.IntVar(&p.Groups, "groups", 10, "mixed: groups")
	fs.IntVar(&p.Backends, "backends", 1, "mixed: publishing backends")
	fs.Float64Var(&p.MixedRate, "mixed-rate", 1000, "mixed: publications per second")
	fs.IntVar(&p.MixedCallers, "mixed-callers", 2, "mixed: calling backends")
	fs.IntVar(&p.Nodes, "nodes", 3, "cluster, million: tagwamp nodes joined by one nats-server (each on its own port; at most 19,500 sessions each here)")
	fs.IntVar(&p.Shards, "shards", 1000, "million: shard tags; a publication to one shard reaches one session in this many")
	fs.IntVar(&p.Rounds, "rounds", 2, "cluster: rounds, each one fanout on one node and one on the cluster, in alternating order")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: tagwamp-bench [flags] scenario...
  scenarios: connect idle fanout burst floor rpc mixed cluster million all
  (all: connect idle fanout burst floor rpc mixed; cluster and million need
  nats-server, /usr/sbin/nats-server or on $PATH, and run on tagwamp only)

  cluster: the fanout parameters (-subs -share -pubs -window -rate) run on
    one tagwamp node and on -nodes nodes joined by one nats-server,
    connection i on node i mod nodes (subscribers and publishers spread),
    in -rounds alternating rounds; deliveries/s and publish-to-deliver
    latency of both, side by side, every publication checked to reach
    every matching subscriber.
  million: -conns idle sessions over -nodes nodes joined by one
    nats-server, each subscribed to one topic tagged all=1&shard=i mod
    -shards; then -bursts publications, one at a time, to shard=7 (one
    session in -shards) and as many to all=1 (every session), each timed
    from the publication to its last delivery, every matching session
    counted. Records time to connect all, the servers' RSS per session,
    kernel slab and TCP memory per socket, NATS traffic (/varz). Driven
    by bench/million.sh.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := checkOutputs(&o); err != nil {
		fmt.Fprintln(stderr, "tagwamp-bench:", err)
		return 2
	}
	if o.fromJSON != "" {
		return replot(o, stdout, stderr)
	}
	names := fs.Args()
	if *burst {
		for i, n := range names {
			if n == "fanout" {
				names[i] = "burst"
			}
		}
	}
	runs, err := plan(o.suite, names, p)
	if err == nil {
		err = checkParams(runs, o)
	}
	if err != nil {
		fmt.Fprintln(stderr, "tagwamp-bench:", err)
		return 2
	}
	var servers []wire.Server
	for _, s := range strings.Split(o.servers, ",") {
		if _, err := wire.For(wire.Server(s)); err != nil {
			fmt.Fprintf(stderr, "tagwamp-bench: -servers: %v\n", err)
			return 2
		}
		servers = append(servers, wire.Server(s))
	}
	var logFile *os.File
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			fmt.Fprintln(stderr, "tagwamp-bench:", err)
			return 1
		}
		if logFile, err = os.Create(filepath.Join(o.out, "log.txt")); err != nil {
			fmt.Fprintln(stderr, "tagwamp-bench:", err)
			return 1
		}
		defer logFile.Close()
		stderr = io.MultiWriter(stderr, logFile)
	}
	load0 := report.LoadAvg()
	rep, err := measure(ctx, o, runs, servers, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "tagwamp-bench:", err)
		return 1
	}
	rep.Command = "tagwamp-bench " + strings.Join(args, " ")
	rep.LoadStart, rep.LoadEnd = load0, report.LoadAvg()
	status := 0
	for _, r := range rep.Results {
		if r.Err != "" {
			status = 1
		}
	}
	if err := writeOutputs(rep, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "tagwamp-bench:", err)
		return 1
	}
	return status
}

// checkOutputs fills the -json and -charts paths that -out and -update
// imply and refuses to write the committed figures without -update.
func checkOutputs(o *options) error {
	committed := ""
	if root, err := findRoot(); err == nil {
		committed = filepath.Join(root, "bench")
	}
	same := func(a, b string) bool {
		x, err1 := filepath.Abs(a)
		y, err2 := filepath.Abs(b)
		return err1 == nil && err2 == nil && x == y
	}
	if !o.update && committed != "" && (o.jsonFile != "" && same(o.jsonFile, filepath.Join(committed, "results.json")) ||
		o.charts != "" && same(o.charts, filepath.Join(committed, "charts")) ||
		o.out != "" && same(o.out, committed)) {
		return fmt.Errorf("that would write over the committed figures in %s: add -update to mean it", committed)
	}
	if o.update && committed == "" {
		return fmt.Errorf("-update: not inside the tagwamp repository")
	}
	if o.update {
		o.updateDir = committed
	}
	return nil
}

// writeOutputs prints the table and writes what the flags ask: -out's
// folder, -json, -charts, and with -update the committed figures.
func writeOutputs(rep *report.Report, o options, stdout, stderr io.Writer) error {
	var table bytes.Buffer
	rep.WriteTable(io.MultiWriter(stdout, &table))
	type dest struct{ json, charts, table string }
	var dests []dest
	if o.out != "" {
		dests = append(dests, dest{filepath.Join(o.out, "results.json"), filepath.Join(o.out, "charts"), filepath.Join(o.out, "table.txt")})
	}
	if o.jsonFile != "" || o.charts != "" {
		dests = append(dests, dest{o.jsonFile, o.charts, ""})
	}
	if o.updateDir != "" {
		dests = append(dests, dest{filepath.Join(o.updateDir, "results.json"), filepath.Join(o.updateDir, "charts"), ""})
	}
	for _, d := range dests {
		if d.json != "" {
			var b bytes.Buffer
			rep.WriteJSON(&b)
			if err := os.WriteFile(d.json, b.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintln(stderr, "wrote", d.json)
		}
		if d.table != "" {
			if err := os.WriteFile(d.table, table.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintln(stderr, "wrote", d.table)
		}
		if d.charts != "" {
			files, err := rep.WriteCharts(d.charts)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "wrote %d charts into %s\n", len(files), d.charts)
		}
	}
	return nil
}

// replot prints the table and draws the charts of a saved report.
func replot(o options, stdout, stderr io.Writer) int {
	f, err := os.Open(o.fromJSON)
	if err != nil {
		fmt.Fprintln(stderr, "tagwamp-bench:", err)
		return 1
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		fmt.Fprintln(stderr, "tagwamp-bench:", err)
		return 1
	}
	if err := writeOutputs(rep, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "tagwamp-bench:", err)
		return 1
	}
	return 0
}

// runSpec is one scenario with its parameters.
type runSpec struct {
	scenario string
	p        params
}

// plan turns a suite name or scenario names into runs.
func plan(suite string, names []string, p params) ([]runSpec, error) {
	if suite != "" {
		if len(names) > 0 {
			return nil, fmt.Errorf("-suite and scenario names: give one or the other")
		}
		return suiteRuns(suite, p)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no scenario: name one or more of connect idle fanout burst floor rpc mixed cluster million all, or -suite")
	}
	var runs []runSpec
	for _, n := range names {
		if n == "all" {
			for _, s := range scenarioOrder {
				runs = append(runs, runSpec{s, p})
			}
			continue
		}
		if _, ok := scenarios[n]; !ok {
			return nil, fmt.Errorf("unknown scenario %q", n)
		}
		runs = append(runs, runSpec{n, p})
	}
	return runs, nil
}

// scenarioOrder is the order of "all".
var scenarioOrder = []string{"connect", "idle", "fanout", "burst", "floor", "rpc", "mixed"}

func checkParams(runs []runSpec, o options) error {
	if o.perProc < 1 || o.sources < 1 || o.sources > 250 || o.loops < 0 {
		return fmt.Errorf("-procs-max must be positive, -loops 0 or more, -sources 1-250")
	}
	for _, r := range runs {
		p := r.p
		switch {
		case p.Duration <= 0 || p.Warmup < 0:
			return fmt.Errorf("%s: -duration must be positive", r.scenario)
		case slices.Contains([]string{"connect", "idle", "million"}, r.scenario) && p.Conns < 1:
			return fmt.Errorf("%s: -conns must be positive", r.scenario)
		case isCluster(r.scenario) && p.Nodes < 1:
			return fmt.Errorf("%s: -nodes must be positive", r.scenario)
		case r.scenario == "million" && (p.Shards < 8 || p.Bursts < 1):
			return fmt.Errorf("million: -shards must be 8 or more, -bursts positive")
		case r.scenario == "cluster" && (p.Subs < 1 || p.Pubs < 1 || p.Window < 1 || p.Rounds < 1):
			return fmt.Errorf("cluster: -subs, -pubs, -window and -rounds must be positive")
		case slices.Contains([]string{"fanout", "burst"}, r.scenario) && (p.Subs < 1 || p.Pubs < 1 || p.Window < 1 || p.Bursts < 1):
			return fmt.Errorf("%s: -subs, -pubs, -window and -bursts must be positive", r.scenario)
		case slices.Contains([]string{"fanout", "burst", "cluster"}, r.scenario) && p.Topics != topicsPerSub && p.Topics != topicsShared:
			return fmt.Errorf("%s: -topics %q: %s or %s", r.scenario, p.Topics, topicsPerSub, topicsShared)
		case slices.Contains([]string{"fanout", "cluster"}, r.scenario) && p.Window > gen.MaxCompleteWindow:
			return fmt.Errorf("%s: -window %d: at most %d", r.scenario, p.Window, gen.MaxCompleteWindow)
		case slices.Contains([]string{"fanout", "cluster"}, r.scenario) && p.Subs < groups(p.Share):
			return fmt.Errorf("%s: -subs %d: fewer than the %d groups -share makes", r.scenario, p.Subs, groups(p.Share))
		case slices.Contains([]string{"fanout", "cluster"}, r.scenario) && p.Pubs > o.perProc:
			return fmt.Errorf("%s: -pubs %d: the publishers share one generator process, at most -procs-max", r.scenario, p.Pubs)
		case r.scenario == "floor" && (p.FloorConns < 1 || p.FloorWindow < 1):
			return fmt.Errorf("floor: -floor-conns and -floor-window must be positive")
		case r.scenario == "rpc" && (p.Callers < 1 || p.CallWindow < 1):
			return fmt.Errorf("rpc: -callers and -call-window must be positive")
		case r.scenario == "mixed" && (p.Browsers < 1 || p.Groups < 1 || p.Backends < 1 || p.MixedRate <= 0 || p.MixedCallers < 1 || p.CallWindow < 1):
			return fmt.Errorf("mixed: -browsers, -groups, -backends, -mixed-rate, -mixed-callers and -call-window must be positive")
		}
	}
	return nil
}

// measure builds the servers and runs every run on every server.
func measure(ctx context.Context, o options, runs []runSpec, servers []wire.Server, log io.Writer) (*report.Report, error) {
	limit, err := gen.RaiseFileLimit()
	if err != nil {
		return nil, fmt.Errorf("raising the descriptor limit: %w", err)
	}
	if uint64(o.perProc)+100 > limit {
		fmt.Fprintf(log, "warning: -procs-max %d is near the descriptor limit %d\n", o.perProc, limit)
	}
	root := o.root
	if root == "" {
		if root, err = findRoot(); err != nil {
			return nil, err
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if net.ParseIP(o.addr) == nil {
		return nil, fmt.Errorf("-addr %q: not an IP address", o.addr)
	}
	if o.portBase < 0 || o.portBase > 65535-portSpan {
		return nil, fmt.Errorf("-port-base %d: out of range", o.portBase)
	}
	fmt.Fprintf(log, "building the servers from %s...\n", root)
	env, err := serverEnv(o.serverEnv)
	if err != nil {
		return nil, err
	}
	b, err := build(ctx, root, !slices.Contains(servers, wire.Peer), &ports{host: o.addr, base: o.portBase})
	if err != nil {
		return nil, err
	}
	b.env = env
	defer b.Close()
	if b.peer == "" && slices.Contains(servers, wire.Peer) {
		fmt.Fprintf(log, "SKIPPING the peer: %v\n", b.peerErr)
		servers = slices.DeleteFunc(slices.Clone(servers), func(s wire.Server) bool { return s == wire.Peer })
	}
	h := &harness{ctx: ctx, exe: exe, builds: b, perProc: o.perProc, loops: o.loops, cpuprofile: o.cpuprofile, memprofile: o.memprofile, log: log}
	for i := range o.sources {
		h.sources = append(h.sources, fmt.Sprintf("127.0.0.%d", i+2))
	}
	rep := &report.Report{Machine: report.ThisMachine(cpuModel())}
	for _, r := range runs {
		sc := scenarios[r.scenario]
		if sc.run == nil { // floor: once, on no server
			name := sc.name(r.p)
			fmt.Fprintf(log, "running %s (load %s)...\n", name, report.LoadAvg())
			res := h.runFloor(name, r.p)
			res.Short, res.Load = sc.short(r.p), report.LoadAvg()
			rep.Add(res)
			continue
		}
		for _, kind := range servers {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			name := sc.name(r.p)
			load := report.LoadAvg()
			fmt.Fprintf(log, "running %s on %s (load %s)...\n", name, kind, load)
			res := report.Result{Name: name, Scenario: r.scenario, Server: string(kind), Params: sc.args(r.p)}
			if o.serverEnv != "" {
				res.Params["server_env"] = o.serverEnv
			}
			if isCluster(r.scenario) && kind != wire.Tagwamp {
				continue // tagwamp's cluster: no peer run
			}
			s, err := h.begin(kind, r.scenario, name, res.Params, nodes(r.scenario, r.p))
			if err == nil {
				err = sc.run(s, r.p)
				res = *s.res
				s.close()
			}
			if err != nil {
				res.Err = err.Error()
				fmt.Fprintf(log, "  FAILED: %v\n", err)
			}
			res.Short, res.Load = sc.short(r.p), load
			res.Finish()
			rep.Add(res)
		}
	}
	return rep, nil
}

// findRoot walks up from the working directory to tagwamp's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/tagwamp/tagwamp\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the tagwamp repository: use -root")
		}
		dir = parent
	}
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loops is the generator's epoll loops per worker process for role:
// one for publishers (a few connections, each writing), flag (-loops)
// for callers and subscribers where it is given, and otherwise one for
// callers and two for subscribers. Each loop blocks in epoll_wait(2) as
// a system call. A caller's answers come back on a few connections each
// with many calls in flight: one loop reads them all, where two on a
// two-CPU box left no P idle, so the runtime's monitor took the loops'
// Ps back and started threads for them every 20 us (two loops cost 1.6x
// the generator CPU per call and put the 16 x 16 p99 at 3.0 ms against
// 2.3 ms). A publication's deliveries arrive on thousands of sockets at
// once, which two loops read at once; whether one would do as well was
// not settled by the measurements (bench/RESULTS.md, "The generator's
// loops and the runtime's monitor").
func loops(role gen.Role, flag int) int {
	switch {
	case role == gen.RolePublisher:
		return 1
	case flag > 0:
		return flag
	case role == gen.RoleSubscriber:
		return 2
	}
	return 1
}
