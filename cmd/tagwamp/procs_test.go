//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/wstest"
)

// startNATS starts Debian's nats-server on a free loopback port, stopped
// with the test, and returns its URL. Without the binary the test fails
// under CI=true and is skipped elsewhere.
func startNATS(t *testing.T) string {
	t.Helper()
	bin := ""
	for _, p := range []string{"/usr/sbin/nats-server", "/usr/bin/nats-server"} {
		if _, err := os.Stat(p); err == nil {
			bin = p
		}
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		bin = p
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("nats-server not found: apt-get install nats-server")
		}
		t.Skip("apt-get install nats-server")
	}
	port := freePort(t)
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "nats://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatal("nats-server did not start")
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestListenReusePort: with reuse_port two listeners share a port; without
// it the second is refused.
func TestListenReusePort(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, then bool // reuse_port of the first and the second listener
		shared      bool
	}{
		{"both", true, true, true},
		{"first only", true, false, false},
		{"second only", false, true, false},
		{"neither", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a, err := listen(ctx, "127.0.0.1:0", tc.first, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := listen(ctx, a.Addr().String(), tc.then, 0)
			if err == nil {
				b.Close()
			}
			if (err == nil) != tc.shared {
				t.Errorf("second listener: %v, want shared %v", err, tc.shared)
			}
		})
	}
}

// sessionsAt reads tagwamp_sessions from the /metrics of a debug listener.
func sessionsAt(t *testing.T, debug string) int {
	t.Helper()
	resp, err := http.Get("http://" + debug + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^tagwamp_sessions (\d+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no tagwamp_sessions on %s", debug)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// spread dials url until a session is open on each of the servers whose
// debug listeners are debugs, attributing each new session to the server
// whose count rose, and returns one session per server.
func spread(t *testing.T, url string, debugs []string) []*wstest.Client {
	t.Helper()
	on := make([]*wstest.Client, len(debugs))
	count := make([]int, len(debugs))
	for i, d := range debugs {
		count[i] = sessionsAt(t, d)
	}
	missing := len(debugs)
	for tries := 0; missing > 0; tries++ {
		if tries == 200 {
			t.Fatalf("200 connections and still a server without one: %v", count)
		}
		c := wstest.Dial(t, url, wstest.Options{})
		found := -1
		for deadline := time.Now().Add(10 * time.Second); found < 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("a new session counted by no server")
			}
			for i, d := range debugs {
				if n := sessionsAt(t, d); n > count[i] {
					count[i], found = n, i
					break
				}
			}
		}
		if on[found] == nil {
			on[found] = c
			missing--
		} else {
			c.Conn.Close()
			for deadline := time.Now().Add(10 * time.Second); sessionsAt(t, debugs[found]) >= count[found]; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("a closed session still counted")
				}
			}
			count[found]--
		}
	}
	return on
}

// ping waits until c's server handled what c sent.
func ping(t *testing.T, c *wstest.Client) {
	t.Helper()
	c.Send(`[2,"sync","http://tagwamp.dev/procedure#ping"]`)
	for m := c.Recv(); !strings.HasPrefix(m, `[3,"sync"`); m = c.Recv() {
	}
}

// crossDelivery checks that pub's publications reach sub on another
// process: it publishes warm-ups until the interest has reached NATS,
// then ten events, which sub must get in order.
func crossDelivery(t *testing.T, pub, sub *wstest.Client) {
	t.Helper()
	topic := fmt.Sprintf("http://x.com/news?to=%s", sub.SessionID)
	sub.Send(`[5,"` + topic + `"]`)
	ping(t, sub)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatal("no warm-up reached the other process")
		}
		pub.Send(`[7,"` + topic + `","warm-up"]`)
		if m, err := sub.Next(50 * time.Millisecond); err == nil && strings.Contains(m, "warm-up") {
			break
		}
	}
	for i := range 10 {
		pub.Send(fmt.Sprintf(`[7,%q,%d]`, topic, i))
	}
	for i := 0; i < 10; {
		m := sub.Recv()
		if strings.Contains(m, "warm-up") {
			continue
		}
		if want := fmt.Sprintf(`[8,%q,%d]`, topic, i); m != want {
			t.Fatalf("got %s, want %s", m, want)
		}
		i++
	}
	sub.Send(`[6,"` + topic + `"]`)
}

// TestReusePortRuns: two servers in this process, with reuse_port, share
// one port; both accept connections, a publication on one reaches a
// subscriber on the other through NATS, and /api/presence counts the
// sessions of both.
func TestReusePortRuns(t *testing.T) {
	nats := startNATS(t)
	file := writeFile(t, "broker:\n  nats:\n    urls: [\""+nats+"\"]\n")
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	var debugs []string
	for range 2 {
		r := startRun(t, "-config", file, "-reuse-port", "-addr", addr, "-debug-addr", "127.0.0.1:0")
		if r.addr.String() != addr {
			t.Fatalf("listening on %s, want %s", r.addr, addr)
		}
		debugs = append(debugs, r.debug.String())
	}
	on := spread(t, "ws://"+addr+"/", debugs)
	crossDelivery(t, on[0], on[1])
	crossDelivery(t, on[1], on[0])

	// /api/presence, on whichever server takes the request, counts both.
	for _, c := range on {
		c.Send(`[5,"http://x.com/room?r=1"]`)
		ping(t, c)
	}
	for range 10 {
		resp, err := http.Post("http://"+addr+"/api/presence", "application/json", strings.NewReader(`{"tags":{"r":1}}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var p struct {
			Sessions, Nodes int
			Partial         bool
		}
		if err := json.Unmarshal(b, &p); err != nil || resp.StatusCode != 200 || p.Sessions != 2 || p.Nodes != 2 || p.Partial {
			t.Fatalf("presence: %d %s", resp.StatusCode, b)
		}
	}
}

// procsRun is tagwamp -procs N run as a process, its log lines parsed.
type procsRun struct {
	cmd    *exec.Cmd
	exited chan error
	logs   *syncBuffer
	lines  chan string // every log line
}

// startProcs builds the binary and runs it with args.
func startProcs(t *testing.T, args ...string) *procsRun {
	t.Helper()
	cmd := exec.Command(buildBinary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &procsRun{cmd: cmd, exited: make(chan error, 1), logs: &syncBuffer{}, lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.logs.Write([]byte(sc.Text() + "\n"))
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGKILL) // its processes die with it (Pdeathsig)
			<-p.exited
		}
	})
	return p
}

// await reads log lines until one matches re, and returns its submatches.
func (p *procsRun) await(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l := <-p.lines:
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		case err := <-p.exited:
			t.Fatalf("exited (%v) before a line matching %s\n%s", err, re, p.logs)
		case <-timeout:
			t.Fatalf("no line matching %s after 20s\n%s", re, p.logs)
		}
	}
}

// TestProcs runs tagwamp -procs 2 joined by NATS: both processes listen
// on one port and accept connections, a publication on one reaches a
// subscriber on the other, a process killed is restarted while the other
// one's sessions carry on, and SIGTERM stops them all.
func TestProcs(t *testing.T) {
	nats := startNATS(t)
	file := writeFile(t, "broker:\n  nats:\n    urls: [\""+nats+"\"]\n")
	p := startProcs(t, "-config", file, "-addr", "127.0.0.1:0", "-procs", "2", "-debug-addr", "127.0.0.1:0")
	addr := p.await(t, `msg="tagwamp supervising processes" procs=2 addr=(\S+)`)[1]
	pids := make([]int, 2)
	debugs := make([]string, 2)
	listening := 0
	for listening < 2 || debugs[0] == "" || debugs[1] == "" || pids[0] == 0 || pids[1] == 0 {
		m := p.await(t, `msg="(tagwamp listening|debug listener[^"]*|process started)" proc=(\d) (?:addr|pid)=(\S+)`)
		i, _ := strconv.Atoi(m[2])
		switch {
		case m[1] == "tagwamp listening":
			if m[3] != addr {
				t.Fatalf("process %d listens on %s, want %s", i, m[3], addr)
			}
			listening++
		case m[1] == "process started":
			pids[i], _ = strconv.Atoi(m[3])
		default:
			debugs[i] = m[3]
		}
	}
	url := "ws://" + addr + "/"
	on := spread(t, url, debugs)
	crossDelivery(t, on[0], on[1])
	crossDelivery(t, on[1], on[0])

	// Process 0 dies: the supervisor restarts it; process 1's session
	// carries on.
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.await(t, `msg="process exited: restarting" proc=0 status="signal: killed"`)
	debugs[0] = ""
	for up := false; !up || debugs[0] == ""; {
		m := p.await(t, `msg="(tagwamp listening|debug listener[^"]*)" proc=0 addr=(\S+)`)
		if m[1] == "tagwamp listening" {
			up = m[2] == addr
		} else {
			debugs[0] = m[2]
		}
	}
	ping(t, on[1])
	again := spread(t, url, debugs)
	crossDelivery(t, again[0], on[1])

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM\n%s", p.logs)
	}
	for _, pid := range pids[1:] {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d still runs", pid)
		}
	}
	if !strings.Contains(p.logs.String(), `msg="tagwamp stopped" procs=2`) {
		t.Errorf("no stop line\n%s", p.logs)
	}
}

// TestProcsBadConfig: a process restarted after its configuration file
// went bad exits 2; the supervisor then stops the others and exits 2.
func TestProcsBadConfig(t *testing.T) {
	file := writeFile(t, "procs_without_broker: true\n")
	p := startProcs(t, "-config", file, "-addr", "127.0.0.1:0", "-procs", "2")
	var pid, listening int
	for pid == 0 || listening < 2 {
		m := p.await(t, `msg="(process started|tagwamp listening)" proc=(\d)(?: pid=(\d+))?`)
		switch {
		case m[1] == "tagwamp listening":
			listening++
		case m[2] == "0":
			pid, _ = strconv.Atoi(m[3])
		}
	}
	if err := os.WriteFile(file, []byte("log_level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.await(t, `msg="process exited 2: stopping all" proc=0`)
	select {
	case err := <-p.exited:
		if code := exitStatus(err); code != 2 {
			t.Fatalf("exit %d, want 2\n%s", code, p.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running\n%s", p.logs)
	}
}

// TestProcsAllDie: when every process dies at once, the supervisor
// restarts them all rather than taking the group for stopped.
func TestProcsAllDie(t *testing.T) {
	p := startProcs(t, "-config", writeFile(t, "procs_without_broker: true\n"), "-addr", "127.0.0.1:0", "-procs", "2")
	pids := map[string]int{}
	for listening := 0; len(pids) < 2 || listening < 2; {
		m := p.await(t, `msg="(process started|tagwamp listening)" proc=(\d)(?: pid=(\d+))?`)
		if m[1] == "tagwamp listening" {
			listening++
		} else {
			pids[m[2]], _ = strconv.Atoi(m[3])
		}
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	for up := map[string]bool{}; len(up) < 2; {
		m := p.await(t, `msg="tagwamp listening" proc=(\d)`)
		up[m[1]] = true
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM\n%s", p.logs)
	}
	if n := strings.Count(p.logs.String(), `msg="process exited: restarting"`); n != 2 {
		t.Errorf("%d restarts, want 2\n%s", n, p.logs)
	}
}
