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
// connection) and a blocking Go client, each a process of its own (this
// binary re-executed), doing 64-byte round trips over loopback with one in
// flight. Nothing is pinned: the scheduler places them as it places the
// rpc runs, so a call's latency can be stated as a ratio of this floor,
// measured in the same run (bench/RESULTS.md, "Where a call's round trip
// goes").

// floorEnv turns this binary into the floor's echo server ("server") or
// client ("client"); floorAddrEnv is the address either uses.
const (
	floorEnv     = "TAGWAMP_BENCH_FLOOR"
	floorAddrEnv = "TAGWAMP_BENCH_FLOOR_ADDR"
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
		err = echoClient(addr, os.Stdin, os.Stdout)
	default:
		err = fmt.Errorf("%s=%q: server or client", floorEnv, role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// echoServe echoes every floorSize bytes each connection sends back to it,
// until killed.
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
			var buf [floorSize]byte
			for {
				if _, err := io.ReadFull(c, buf[:]); err != nil {
					return
				}
				if _, err := c.Write(buf[:]); err != nil {
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

// echoClient does round trips to addr, one at a time, recording each; it
// answers each command line of in ("reset", "stats", "stop") with a
// floorStats line on out, "stop" last.
func echoClient(addr string, in io.Reader, out io.Writer) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var (
		mu   sync.Mutex
		h    = gen.NewHistogram()
		fail error
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		var msg, got [floorSize]byte
		for {
			select {
			case <-stop:
				return
			default:
			}
			t := time.Now()
			_, err := c.Write(msg[:])
			if err == nil {
				_, err = io.ReadFull(c, got[:])
			}
			d := time.Since(t)
			mu.Lock()
			if err != nil {
				fail = err
				mu.Unlock()
				return
			}
			h.RecordValue(d.Nanoseconds())
			mu.Unlock()
		}
	}()
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
func (h *harness) floorProc(role, addr string) *exec.Cmd {
	cmd := exec.CommandContext(h.ctx, h.exe)
	cmd.Env = append(os.Environ(), floorEnv+"="+role, floorAddrEnv+"="+addr)
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
	srv := &server{kind: floorServer, cmd: h.floorProc("server", addr), addr: addr, logs: new(bytes.Buffer), done: make(chan error, 1)}
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
	fc := &floorClient{cmd: h.floorProc("client", addr)}
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
