package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tagwamp/tagwamp/bench/internal/gen"
	"github.com/tagwamp/tagwamp/bench/internal/report"
	"github.com/tagwamp/tagwamp/bench/internal/sysstat"
)

// The floor scenario is the round trip the kernel and the Go runtime cost
// without any server logic: a blocking Go echo server (one goroutine per
// connection, writing back whatever one read returns) and a blocking Go
// client, each a process of its own (this binary re-executed), doing
// 64-byte round trips over loopback: by default one connection with one
// in flight; with -floor-conns and -floor-window, that many connections
// each keeping that many in flight, the shape of rpc's -callers and
// -call-window (each read's completed messages are answered by as many new
// ones in one write, as the generator's callers do). Nothing is pinned:
// the scheduler places them as it places the rpc runs, so a call's
// latency and CPU can be stated as a ratio of this floor, measured in the
// same run (bench/RESULTS.md, "Where a call's round trip goes").

// floorEnv turns this binary into the floor's echo server ("server") or
// client ("client"); floorAddrEnv is the address either uses.
// floorShapeEnv is the client's connections and window, "conns,window".
const (
	floorEnv      = "TAGWAMP_BENCH_FLOOR"
	floorAddrEnv  = "TAGWAMP_BENCH_FLOOR_ADDR"
	floorShapeEnv = "TAGWAMP_BENCH_FLOOR_SHAPE"
)

// floorServer is the name of the floor's results, in place of a server.
const floorServer = "floor"

// floorSize is the bytes of each echo round trip.
const floorSize = 64

// floorMain runs the floor's server or client and exits.
func floorMain(role string) {
	addr := os.Getenv(floorAddrEnv)
	var err error
	switch role {
	case "server":
		err = echoServe(addr)
	case "client":
		var conns, window int
		if _, err = fmt.Sscanf(os.Getenv(floorShapeEnv), "%d,%d", &conns, &window); err == nil {
			err = echoClient(addr, conns, window, os.Stdin, os.Stdout)
		}
	default:
		err = fmt.Errorf("%s=%q: server or client", floorEnv, role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// echoServe writes back to each connection whatever one read of it
// returned, until killed.
func echoServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
	}
}

// floorStats is the client's answer to a command.
type floorStats struct {
	Count   int64         `json:"count"`
	Latency *hdr.Snapshot `json:"latency,omitempty"`
	Err     string        `json:"err,omitempty"`
}

// echoClient does round trips to addr over conns connections, each
// keeping window in flight, recording each; it answers each command line
// of in ("reset", "stats", "stop") with a floorStats line on out, "stop"
// last.
func echoClient(addr string, conns, window int, in io.Reader, out io.Writer) error {
	if conns < 1 || window < 1 {
		return fmt.Errorf("floor client: %d connections, window %d", conns, window)
	}
	var (
		mu   sync.Mutex
		h    = gen.NewHistogram()
		fail error
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		wg.Go(func() {
			if err := echoLoop(c, window, stop, &mu, h); err != nil {
				mu.Lock()
				fail = err
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	enc := json.NewEncoder(out)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var st floorStats
		mu.Lock()
		switch cmd := strings.TrimSpace(sc.Text()); cmd {
		case "reset":
			h.Reset()
		case "stats":
			st.Count, st.Latency = h.TotalCount(), h.Export()
		case "stop":
			close(stop)
		default:
			st.Err = fmt.Sprintf("unknown command %q", cmd)
		}
		if fail != nil {
			st.Err = fail.Error()
		}
		mu.Unlock()
		if err := enc.Encode(st); err != nil {
			return err
		}
		if st.Err != "" {
			return fmt.Errorf("%s", st.Err)
		}
		if sc.Text() == "stop" {
			<-done
			return nil
		}
	}
	return sc.Err()
}

// echoLoop keeps window round trips in flight on c until stop: each
// read's completed messages are recorded (under mu, into h) and answered
// by as many new ones, in one write.
func echoLoop(c net.Conn, window int, stop <-chan struct{}, mu *sync.Mutex, h *hdr.Histogram) error {
	msgs := make([]byte, window*floorSize)
	buf := make([]byte, window*floorSize)
	sent := make([]time.Time, 0, window) // send times, oldest first
	now := time.Now()
	for range window {
		sent = append(sent, now)
	}
	if _, err := c.Write(msgs); err != nil {
		return err
	}
	partial := 0 // bytes of a message not yet all read
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		partial += n
		k := partial / floorSize
		partial %= floorSize
		if k == 0 {
			continue
		}
		now := time.Now()
		mu.Lock()
		for _, t := range sent[:k] {
			h.RecordValue(now.Sub(t).Nanoseconds())
		}
		mu.Unlock()
		sent = append(sent[:0], sent[k:]...)
		for range k {
			sent = append(sent, now)
		}
		if _, err := c.Write(msgs[:k*floorSize]); err != nil {
			return err
		}
	}
}

// floorClient is the harness's handle on the client process.
type floorClient struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// do sends one command and reads its answer.
func (f *floorClient) do(cmd string) (floorStats, error) {
	var st floorStats
	if _, err := fmt.Fprintln(f.in, cmd); err != nil {
		return st, fmt.Errorf("floor client: %w", err)
	}
	if !f.out.Scan() {
		return st, fmt.Errorf("floor client: no answer to %s: %v", cmd, f.out.Err())
	}
	if err := json.Unmarshal(f.out.Bytes(), &st); err != nil {
		return st, fmt.Errorf("floor client: %w", err)
	}
	if st.Err != "" {
		return st, fmt.Errorf("floor client: %s", st.Err)
	}
	return st, nil
}

// floorProc starts this binary as the floor's role at addr.
func (h *harness) floorProc(role, addr string, p params) *exec.Cmd {
	cmd := exec.CommandContext(h.ctx, h.exe)
	cmd.Env = append(os.Environ(), floorEnv+"="+role, floorAddrEnv+"="+addr,
		fmt.Sprintf("%s=%d,%d", floorShapeEnv, p.FloorConns, p.FloorWindow))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphans if the harness dies
	return cmd
}

// runFloor measures the floor: the echo server is the "server" whose CPU
// is counted, the client the generator.
func (h *harness) runFloor(name string, p params) report.Result {
	res := report.Result{Name: name, Scenario: "floor", Server: floorServer, Params: scenarios["floor"].args(p)}
	if err := h.floor(&res, p); err != nil {
		res.Err = err.Error()
		fmt.Fprintf(h.log, "  FAILED: %v\n", err)
	}
	res.Finish()
	return res
}

func (h *harness) floor(res *report.Result, p params) error {
	addr, err := h.builds.ports.free()
	if err != nil {
		return err
	}
	srv := &server{kind: floorServer, cmd: h.floorProc("server", addr, p), addr: addr, logs: new(bytes.Buffer), done: make(chan error, 1)}
	srv.cmd.Stdout, srv.cmd.Stderr = srv.logs, srv.logs
	if err := srv.cmd.Start(); err != nil {
		return fmt.Errorf("starting the floor's echo server: %w", err)
	}
	go func() { srv.done <- srv.cmd.Wait() }()
	if err := waitListening(context.Background(), srv.done, addr); err != nil {
		var exited *exitedError
		if errors.As(err, &exited) {
			return fmt.Errorf("the floor's echo server %w\n%s", err, srv.logs)
		}
		srv.stop()
		return fmt.Errorf("the floor's echo server %w", err)
	}
	defer srv.stop()
	fc := &floorClient{cmd: h.floorProc("client", addr, p)}
	errb := new(strings.Builder)
	fc.cmd.Stderr = errb
	if fc.in, err = fc.cmd.StdinPipe(); err != nil {
		return err
	}
	stdout, err := fc.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	fc.out = bufio.NewScanner(stdout)
	fc.out.Buffer(nil, 16<<20)
	if err := fc.cmd.Start(); err != nil {
		return fmt.Errorf("starting the floor's client: %w", err)
	}
	defer func() {
		fc.in.Close()
		fc.cmd.Process.Kill()
		fc.cmd.Wait()
	}()
	time.Sleep(p.Warmup)
	if _, err := fc.do("reset"); err != nil {
		return fmt.Errorf("%w %s", err, errb)
	}
	snapAt := func() (snap, error) {
		sn := snap{t: time.Now()}
		sn.server, sn.serverCPUError = srv.cpu()
		sn.serverRSS, _ = srv.rss()
		self, _ := sysstat.CPUSeconds(os.Getpid())
		cl, err := sysstat.CPUSeconds(fc.cmd.Process.Pid)
		sn.gen = self + cl
		return sn, err
	}
	a, err := snapAt()
	if err != nil {
		return err
	}
	time.Sleep(p.Duration)
	b, err := snapAt()
	if err != nil {
		return err
	}
	st, err := fc.do("stats")
	if err != nil {
		return fmt.Errorf("%w %s", err, errb)
	}
	if _, err := fc.do("stop"); err != nil {
		return fmt.Errorf("%w %s", err, errb)
	}
	if a.serverCPUError != nil || b.serverCPUError != nil {
		return fmt.Errorf("echo server CPU: %v %v", a.serverCPUError, b.serverCPUError)
	}
	res.Seconds = b.t.Sub(a.t).Seconds()
	res.ServerCPU = b.server - a.server
	res.GenCPU = b.gen - a.gen
	res.ServerRSS = b.serverRSS
	lat := hdr.Import(st.Latency)
	s := &session{h: h, res: res}
	n := float64(st.Count)
	res.Add("calls/s", n/res.Seconds, "1/s", report.Higher)
	s.addPerCPU("calls per server CPU-s", n)
	s.addLatency("call", lat)
	return nil
}
