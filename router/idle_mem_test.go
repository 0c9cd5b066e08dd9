//go:build linux

package router

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/wsconn"
)

// The idle-session benchmark (bench/RESULTS.md, "Idle sessions"): what an
// idle session with one tag subscription costs the server in memory, and
// what the server spends on idle sessions in CPU. The client side runs in a
// child process (this test binary again, TestIdleClientProcess) that holds
// raw descriptors and answers pings, so that neither its memory nor its CPU
// is counted:
//
//	ulimit -n 20000
//	go test ./router -run='^$' -bench=IdleSessions -benchtime=1x -args -idle.sessions=10000 -idle.cpu=65s
var (
	idleSessions = flag.Int("idle.sessions", 10_000, "BenchmarkIdleSessions: sessions to open")
	idleCPU      = flag.Duration("idle.cpu", 0, "BenchmarkIdleSessions: measure the server's CPU over this window (0: skip)")
	idlePing     = flag.Duration("idle.ping", 0, "BenchmarkIdleSessions: Options.PingInterval (0: the default)")
	idleCPUProf  = flag.String("idle.cpuprofile", "", "BenchmarkIdleSessions: write a CPU profile of the idle window")
	idleProfile  = flag.String("idle.heapprofile", "", "BenchmarkIdleSessions: write a heap profile with the sessions open "+
		"(with -test.memprofilerate=1 for every allocation)")
)

// Environment of the client process.
const (
	idleEnvAddr = "TAGWAMP_IDLE_CLIENT_ADDR"
	idleEnvN    = "TAGWAMP_IDLE_CLIENT_N"
)

// memSample is the memory of the process after two collections and a
// return of freed pages to the OS.
type memSample struct {
	heapStack uint64 // HeapInuse + StackInuse
	sys       uint64 // every byte the runtime obtained from the OS
	rss       uint64 // resident set, from /proc/self/statm
}

func sampleMem() memSample {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{heapStack: ms.HeapInuse + ms.StackInuse, sys: ms.Sys - ms.HeapReleased, rss: readRSS()}
}

func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkIdleSessions(b *testing.B) {
	n := *idleSessions
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n)+100 {
		b.Skipf("descriptor limit %d is below %d sessions: ulimit -n 20000", lim.Cur, n)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := New(Options{PingInterval: *idlePing})
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	// Warm the process up with one session, so the baseline holds the
	// worker pool's and the runtime's fixed costs.
	runClient := func(n int) (*exec.Cmd, io.WriteCloser) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), idleEnvAddr+"="+ln.Addr().String(), idleEnvN+"="+strconv.Itoa(n))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			stdin.Close()
			cmd.Wait()
			b.Fatalf("client process: %q, %v", line, err)
		}
		go io.Copy(io.Discard, stdout)
		return cmd, stdin
	}
	stop := func(cmd *exec.Cmd, stdin io.WriteCloser) {
		stdin.Close()
		cmd.Wait()
	}
	waitSubs := func(want int64) {
		deadline := time.Now().Add(60 * time.Second)
		for srv.Stats().Subscriptions != want {
			if time.Now().After(deadline) {
				b.Fatalf("%d subscriptions, want %d", srv.Stats().Subscriptions, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// waitIdle waits for the worker goroutines to exit (workerIdle), so
	// that their stacks are not counted.
	waitIdle := func() {
		deadline := time.Now().Add(3 * wsconn.WorkerIdle)
		for srv.t.Workers() > 0 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	warm, warmIn := runClient(1)
	waitSubs(1)
	stop(warm, warmIn)
	waitSubs(0)
	waitIdle()

	b.ResetTimer()
	before := sampleMem()
	base := runtime.NumGoroutine()
	cmd, stdin := runClient(n)
	defer stop(cmd, stdin)
	waitSubs(int64(n))
	if s := srv.Stats().Sessions; s != int64(n) {
		b.Fatalf("%d sessions, want %d", s, n)
	}
	waitIdle()
	goroutines := runtime.NumGoroutine()
	after := sampleMem()
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	if *idleProfile != "" {
		f, err := os.Create(*idleProfile)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ReportMetric(per(after.heapStack, before.heapStack), "heap+stack-B/session")
	b.ReportMetric(per(after.sys, before.sys), "sys-B/session")
	b.ReportMetric(per(after.rss, before.rss), "rss-B/session")
	b.ReportMetric(float64(goroutines-base), "goroutines")
	if *idleCPU > 0 {
		if *idleCPUProf != "" {
			f, err := os.Create(*idleCPUProf)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				b.Fatal(err)
			}
		}
		c0, t0 := cpuTime(), time.Now()
		time.Sleep(*idleCPU)
		cpu, wall := cpuTime()-c0, time.Since(t0)
		if *idleCPUProf != "" {
			pprof.StopCPUProfile()
		}
		if s := srv.Stats().Sessions; s != int64(n) {
			b.Fatalf("%d sessions after the idle window, want %d", s, n)
		}
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n)/wall.Seconds(), "cpu-ns/session/s")
	}
	b.StopTimer()
}

// TestIdleClientProcess is the client process of BenchmarkIdleSessions; it
// does nothing unless that benchmark started it. It opens TAGWAMP_IDLE_CLIENT_N
// sessions with raw descriptors, subscribes each to one tag topic, prints
// "ready", answers pings until its stdin closes, then exits.
func TestIdleClientProcess(t *testing.T) {
	addr := os.Getenv(idleEnvAddr)
	if addr == "" {
		t.Skip("the client process of BenchmarkIdleSessions")
	}
	n, _ := strconv.Atoi(os.Getenv(idleEnvN))
	fds, err := idleDial(addr, n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle client:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if err := idlePong(fds); err != nil {
		fmt.Fprintln(os.Stderr, "idle client:", err)
		os.Exit(2)
	}
}

// idleDial opens n sessions to addr with blocking raw sockets, reads each
// one's 101 and WELCOME and sends a SUBSCRIBE to a tag topic.
func idleDial(addr string, n int) ([]int, error) {
	ap, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return nil, err
	}
	sa := &syscall.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	req := []byte("GET /?x=1 HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: wamp\r\nOrigin: http://example.com\r\nUser-Agent: idle-bench\r\n\r\n")
	fds := make([]int, 0, n)
	buf := make([]byte, 4096)
	for i := range n {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("socket %d: %w", i, err)
		}
		if err := syscall.Connect(fd, sa); err != nil {
			return nil, fmt.Errorf("connect %d: %w", i, err)
		}
		if err := writeFull(fd, req); err != nil {
			return nil, err
		}
		// The 101, then the WELCOME frame (unmasked, short).
		got := 0
		for {
			m, err := syscall.Read(fd, buf[got:])
			if err != nil || m <= 0 {
				return nil, fmt.Errorf("handshake %d: %d, %v", i, m, err)
			}
			got += m
			end := bytes.Index(buf[:got], []byte("\r\n\r\n"))
			if end < 0 {
				continue
			}
			if !bytes.HasPrefix(buf, []byte("HTTP/1.1 101")) {
				return nil, fmt.Errorf("handshake %d: %q", i, buf[:got])
			}
			f := buf[end+4 : got]
			if len(f) >= 2 && len(f) >= 2+int(f[1]&0x7f) {
				break
			}
		}
		topic := "http://example.com/t?user=" + strconv.Itoa(i)
		sub := maskedText(`[5,"` + topic + `"]`)
		if err := writeFull(fd, sub); err != nil {
			return nil, err
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

func writeFull(fd int, p []byte) error {
	for len(p) > 0 {
		m, err := syscall.Write(fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		p = p[m:]
	}
	return nil
}

// maskedFrame is one client frame (FIN set) with a payload under 126 bytes.
func maskedFrame(op byte, p []byte) []byte {
	f := []byte{0x80 | op, 0x80 | byte(len(p)), 1, 2, 3, 4}
	for i, c := range p {
		f = append(f, c^f[2+i%4])
	}
	return f
}

func maskedText(s string) []byte { return maskedFrame(0x1, []byte(s)) }

// idlePong answers every ping on fds with a pong, with one epoll instance.
func idlePong(fds []int) error {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	for _, fd := range fds {
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd,
			&syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
			return err
		}
	}
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 4096)
	for {
		k, err := syscall.EpollWait(ep, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:k] {
			fd := int(ev.Fd)
			m, err := syscall.Read(fd, buf)
			if err != nil || m <= 0 {
				syscall.EpollCtl(ep, syscall.EPOLL_CTL_DEL, fd, nil)
				continue
			}
			// Frames from the server are unmasked; an idle session gets
			// pings (and, here, nothing else it must answer).
			for p := buf[:m]; len(p) >= 2; {
				l := int(p[1] & 0x7f)
				if l >= 126 || len(p) < 2+l {
					break // not a control frame, or cut: not ours to answer
				}
				if p[0]&0x0f == 0x9 {
					if err := writeFull(fd, maskedFrame(0xA, p[2:2+l])); err != nil && !errors.Is(err, syscall.EPIPE) {
						return err
					}
				}
				p = p[2+l:]
			}
		}
	}
}
