package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tagwamp/tagwamp/bench/internal/sysstat"
	"github.com/tagwamp/tagwamp/bench/internal/wire"
)

// tagwampConfig is the server's configuration under load: pings off (the
// generator's sessions never go quiet by accident), queues and the
// handshake time raised for tens of thousands of connections set up at
// once (the first byte's too: with a hundred generator and server
// processes on two cores a generator may not get the CPU to send its
// upgrade within the default 3 s, and the server then closes the
// connection), TCP keepalive off (with Go's default of 15s, the kernel
// probed each of a million runs' 2M loopback sockets every 15s), and the per-session rate limits raised far above what one
// generator connection sends (a backend pipelining calls passes the
// default 10,000 messages per second) but left on, so their cost is in
// the figures. The call timeout keeps its default.
const tagwampConfig = `addr: %s
debug_addr: %s
log_level: warn
limits:
  max_queue_bytes: 67108864
  handshake_timeout: 60s
  handshake_first_byte_timeout: 60s
  tcp_keepalive: off
  write_timeout: 30s
  ping_interval: off
  message_rate: {per_second: 1000000000, burst: 1000000000}
  byte_rate: {per_second: 1000000000000, burst: 1000000000000}
`

// builds holds the server binaries, built once per harness run, and
// where the servers listen.
type builds struct {
	ports   *ports
	dir     string
	tagwamp string
	peer    string // "" when the peer does not build
	peerErr error
	env     []string // -server-env: added to the servers' environment
}

// serverEnv parses -server-env: comma-separated KEY=VALUE pairs.
func serverEnv(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	env := strings.Split(s, ",")
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("-server-env: %q is not KEY=VALUE", kv)
		}
	}
	return env, nil
}

// build compiles ./cmd/tagwamp and, unless skipPeer, bench/peer (its own
// module) into a temporary directory. root is the repository root.
func build(ctx context.Context, root string, skipPeer bool, pt *ports) (*builds, error) {
	dir, err := os.MkdirTemp("", "tagwamp-bench-")
	if err != nil {
		return nil, err
	}
	b := &builds{ports: pt, dir: dir, tagwamp: filepath.Join(dir, "tagwamp")}
	if out, err := goBuild(ctx, root, "-o", b.tagwamp, "./cmd/tagwamp"); err != nil {
		return nil, fmt.Errorf("building tagwamp: %w\n%s", err, out)
	}
	if skipPeer {
		b.peerErr = fmt.Errorf("peer skipped (-servers)")
		return b, nil
	}
	p := filepath.Join(dir, "peer")
	if out, err := goBuild(ctx, root, "-C", "bench/peer", "-o", p, "."); err != nil {
		b.peerErr = fmt.Errorf("building the peer (go build -C bench/peer): %w: %s", err, strings.TrimSpace(string(out)))
		return b, nil
	}
	b.peer = p
	return b, nil
}

func goBuild(ctx context.Context, root string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, args...)...)
	cmd.Dir = root
	return cmd.CombinedOutput()
}

// Close removes the binaries.
func (b *builds) Close() { os.RemoveAll(b.dir) }

// server is a running server process.
type server struct {
	kind  wire.Server
	cmd   *exec.Cmd
	addr  string // host:port of the WebSocket endpoint
	debug string // host:port of the debug listener
	logs  *bytes.Buffer
	done  chan error
}

// ports hands out the addresses the harness's servers (and nats-server,
// the floor's echo server) listen on: host, and either random free ports
// or, with a base, the free ports from base to base+portSpan-1 in turn,
// so that a run can stay out of other servers' way.
type ports struct {
	host string
	base int // 0: random

	mu   sync.Mutex
	next int // the next port to try, from base
}

// portSpan is how many ports from -port-base the harness uses.
const portSpan = 200

// free returns host:port of a port nobody listens on now.
func (p *ports) free() (string, error) {
	if p.base == 0 {
		return freePort(p.host)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for range portSpan {
		port := p.base + p.next
		p.next = (p.next + 1) % portSpan
		ln, err := net.Listen("tcp", net.JoinHostPort(p.host, strconv.Itoa(port)))
		if err == nil {
			ln.Close()
			return ln.Addr().String(), nil
		}
	}
	return "", fmt.Errorf("no free port on %s from %d to %d", p.host, p.base, p.base+portSpan-1)
}

// freePort returns a port of host nobody listens on now.
//
// The port is taken below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), never from it: the readiness dials of
// start, made before the server listens, could otherwise connect a socket
// to itself (TCP simultaneous open, when the kernel picks the dialed port
// as the source port), and that socket would hold the port the server
// then fails to bind ("address already in use"), which happened with 52
// nodes started one after another. Where the range cannot be read, or
// nothing below it is free, the kernel picks.
func freePort(host string) (string, error) {
	if low := ephemeralLow(); low > 1024 {
		for range 64 {
			port := 1024 + rand.IntN(low-1024)
			ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
			if err == nil {
				ln.Close()
				return ln.Addr().String(), nil
			}
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ephemeralLow is the first port of the kernel's ephemeral range, or 0
// where it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return n
}

// start runs a fresh server of kind and waits until both its listeners
// accept connections.
func (b *builds) start(ctx context.Context, kind wire.Server) (*server, error) {
	return b.startWith(ctx, kind, "")
}

// startWith is start with extra appended to tagwamp's configuration (the
// broker of a cluster node).
func (b *builds) startWith(ctx context.Context, kind wire.Server, extra string) (*server, error) {
	addr, err := b.ports.free()
	if err != nil {
		return nil, err
	}
	debug, err := b.ports.free()
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	switch kind {
	case wire.Tagwamp:
		cfg := filepath.Join(b.dir, "tagwamp-"+strings.ReplaceAll(addr, ":", "-")+".yaml")
		if err := os.WriteFile(cfg, append(fmt.Appendf(nil, tagwampConfig, addr, debug), extra...), 0o600); err != nil {
			return nil, err
		}
		cmd = exec.Command(b.tagwamp, "-config", cfg)
	case wire.Peer:
		if b.peer == "" {
			return nil, b.peerErr
		}
		cmd = exec.Command(b.peer, "-addr", addr, "-debug-addr", debug)
	default:
		return nil, fmt.Errorf("unknown server %q", kind)
	}
	if len(b.env) > 0 {
		cmd.Env = append(os.Environ(), b.env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphans if the harness dies
	s := &server{kind: kind, cmd: cmd, addr: addr, debug: debug, logs: new(bytes.Buffer), done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = limitedWriter{s.logs}, limitedWriter{s.logs}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", kind, err)
	}
	go func() { s.done <- cmd.Wait() }()
	if err := waitListening(ctx, s.done, addr, debug); err != nil {
		var exited *exitedError
		if errors.As(err, &exited) {
			return nil, fmt.Errorf("%s %w\n%s", kind, err, s.logs)
		}
		s.stop()
		return nil, fmt.Errorf("%s %w", kind, err)
	}
	return s, nil
}

// exitedError is waitListening's error when the process ended first.
type exitedError struct{ err error }

func (e *exitedError) Error() string { return fmt.Sprintf("exited at start: %v", e.err) }

// waitListening dials each of addrs until it accepts a connection, for at
// most 30s, and fails early when done (the process's Wait) delivers or ctx
// ends.
func waitListening(ctx context.Context, done <-chan error, addrs ...string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case err := <-done:
				return &exitedError{err}
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("not listening on %s after 30s", a)
			}
		}
	}
	return nil
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// cpu is the server's CPU seconds so far.
func (s *server) cpu() (float64, error) { return sysstat.CPUSeconds(s.pid()) }

// rss is the server's resident memory now.
func (s *server) rss() (int64, error) { return sysstat.RSS(s.pid()) }

// goMem forces a GC through the heap profile endpoint, then returns the Go
// heap in use and the goroutine stacks in use.
func (s *server) goMem(ctx context.Context) (heap, stack float64, err error) {
	if err := sysstat.Get(ctx, "http://"+s.debug+"/debug/pprof/heap?gc=1", discard{}); err != nil {
		return 0, 0, err
	}
	m, err := sysstat.Scrape(ctx, "http://"+s.debug+"/metrics")
	if err != nil {
		return 0, 0, err
	}
	h, ok1 := m["go_memstats_heap_inuse_bytes"]
	st, ok2 := m["go_memstats_stack_inuse_bytes"]
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("%s /metrics lacks go_memstats_heap_inuse_bytes or go_memstats_stack_inuse_bytes", s.kind)
	}
	return h, st, nil
}

// mallocs is the Go runtime's count of heap allocations so far.
func (s *server) mallocs(ctx context.Context) (float64, error) {
	m, err := sysstat.Scrape(ctx, "http://"+s.debug+"/metrics")
	if err != nil {
		return 0, err
	}
	v, ok := m["go_memstats_mallocs_total"]
	if !ok {
		return 0, fmt.Errorf("%s /metrics lacks go_memstats_mallocs_total", s.kind)
	}
	return v, nil
}

// save fetches path from the debug listener into file.
func (s *server) save(ctx context.Context, path, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	err = sysstat.Get(ctx, "http://"+s.debug+path, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// profile saves a CPU profile of the next d to file, in the background;
// the returned channel gives the outcome.
func (s *server) profile(ctx context.Context, d time.Duration, file string) <-chan error {
	ch := make(chan error, 1)
	go func() {
		f, err := os.Create(file)
		if err != nil {
			ch <- err
			return
		}
		err = sysstat.Get(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.debug, max(1, int(d.Seconds()))), f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		ch <- err
	}()
	return ch
}

// stop ends the server (SIGTERM, then SIGKILL after 10s).
func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// limitedWriter keeps the first 64 KiB of a process's output.
type limitedWriter struct{ b *bytes.Buffer }

func (l limitedWriter) Write(p []byte) (int, error) {
	if n := 64<<10 - l.b.Len(); n > 0 {
		l.b.Write(p[:min(n, len(p))])
	}
	return len(p), nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
