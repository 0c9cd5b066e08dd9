//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"

	"github.com/tagwamp/tagwamp/internal/wstest"
)

// TestSIGTERM builds the real binary, queues megabytes of events for
// subscribers that are not reading, and sends the process SIGTERM. Each
// still-connected subscriber then receives every event, in order, and a
// 1001 close frame after them; a new connection is refused; the process
// exits 0.
func TestSIGTERM(t *testing.T) {
	// A long write timeout, so a subscriber that reads late is not dropped
	// as a slow consumer, and a queue large enough for what is published.
	p := startBinary(t, "limits:\n  max_queue_bytes: 67108864\n  write_timeout: 1m\n  ping_interval: off\n")
	cmd, exited, logs, addr := p.cmd, p.exited, p.logs, p.addr
	url := "ws://" + addr + "/"

	// Twice what the kernel may buffer per connection (its largest send
	// buffer; the subscribers' receive buffers are small), so that most of
	// it waits in the server's queues when SIGTERM comes.
	eventSize, events := 1024, 2*tcpWmemMax()/1024
	const topic = "http://x.com/feed?room=lobby"
	const subscribers = 3
	subs := make([]*wstest.Client, subscribers)
	for i := range subs {
		subs[i] = rawDial(t, url, 4096)
		subs[i].Send(`[5,"` + topic + `"]`)
	}
	pub := rawDial(t, url, 0)
	for _, s := range subs { // their subscriptions are in place
		s.Send(`[2,"sub","http://tagwamp.dev/procedure#ping"]`)
		if m := s.Recv(); m != `[3,"sub","pong"]` {
			t.Fatalf("ping answered %s", m)
		}
	}
	payload := func(i int) string {
		p := fmt.Sprintf(`{"seq":%d,"pad":"`, i)
		return p + strings.Repeat("z", eventSize-len(p)-2) + `"}`
	}
	w := bufio.NewWriterSize(pub.Conn, 1<<16)
	for i := range events {
		wsutil.WriteClientText(w, []byte(fmt.Sprintf(`[7,%q,%s]`, topic, payload(i))))
	}
	wsutil.WriteClientText(w, []byte(`[2,"queued","http://tagwamp.dev/procedure#ping"]`))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// The publisher's messages are handled in order: when the ping is
	// answered, every event is queued for every subscriber.
	if m := pub.Recv(); m != `[3,"queued","pong"]` {
		t.Fatalf("ping answered %s", m)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The publisher has nothing queued: its close frame comes first, and
	// the server closes its listener before it closes any session.
	expectShutdownClose(t, pub, 0)
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("a connection was accepted after SIGTERM")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial after SIGTERM: %v, want connection refused", err)
	}

	var wg sync.WaitGroup
	for i, s := range subs {
		wg.Go(func() {
			for n := range events {
				m, err := s.Next(20 * time.Second)
				if err != nil {
					t.Errorf("subscriber %d, event %d of %d: %v (close %d %q)", i, n, events, err, s.CloseCode, m)
					return
				}
				if want := fmt.Sprintf(`[8,%q,%s]`, topic, payload(n)); m != want {
					t.Errorf("subscriber %d, event %d: got %.60q", i, n, m)
					return
				}
			}
			expectShutdownClose(t, s, i)
		})
	}
	wg.Wait()
	for _, s := range subs {
		s.Conn.Close()
	}

	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v, want 0\n%s", err, logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after SIGTERM\n%s", logs)
	}
	if !strings.Contains(logs.String(), `msg="tagwamp stopped"`) {
		t.Errorf("logs lack the stop:\n%s", logs)
	}
	t.Logf("%d events of %d bytes delivered to %d subscribers after SIGTERM", events, eventSize, subscribers)
}

// process is the built tagwamp binary, running.
type process struct {
	cmd    *exec.Cmd
	exited chan error // receives cmd.Wait's result
	logs   *syncBuffer
	addr   string // the address it listens on
}

// buildBinary builds cmd/tagwamp into the test's temporary directory and
// returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tagwamp")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary builds cmd/tagwamp, runs it on a free loopback port with
// the configuration cfg, and waits until it listens; the test's cleanup
// kills it if it still runs.
func startBinary(t *testing.T, cfg string) *process {
	t.Helper()
	cmd := exec.Command(buildBinary(t), "-config", writeFile(t, cfg), "-addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, exited: make(chan error, 1), logs: &syncBuffer{}}
	addrc := make(chan string, 1)
	go func() {
		listening := regexp.MustCompile(`msg="tagwamp listening" addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.logs.Write([]byte(sc.Text() + "\n"))
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.addr = <-addrc:
	case err := <-p.exited:
		t.Fatalf("exited before listening: %v\n%s", err, p.logs)
	case <-time.After(10 * time.Second):
		t.Fatalf("not listening after 10s\n%s", p.logs)
	}
	return p
}

// TestSecondSignal checks that a second SIGTERM stops the process at once
// while the first one's drain still waits for a subscriber that reads
// nothing (shutdown_timeout is a minute).
func TestSecondSignal(t *testing.T) {
	p := startBinary(t, "limits:\n  max_queue_bytes: 67108864\n  write_timeout: 1m\n  ping_interval: off\n  shutdown_timeout: 1m\n")
	url := "ws://" + p.addr + "/"
	const topic = "http://x.com/feed"
	sub := rawDial(t, url, 4096)
	sub.Send(`[5,"` + topic + `"]`)
	pub := rawDial(t, url, 0)
	sub.Send(`[2,"sub","http://tagwamp.dev/procedure#ping"]`)
	if m := sub.Recv(); m != `[3,"sub","pong"]` {
		t.Fatalf("ping answered %s", m)
	}
	// More than the kernel buffers, so the drain cannot finish.
	w := bufio.NewWriterSize(pub.Conn, 1<<16)
	event := `"` + strings.Repeat("z", 1000) + `"`
	for range 2 * tcpWmemMax() / 1000 {
		wsutil.WriteClientText(w, []byte(fmt.Sprintf(`[7,%q,%s]`, topic, event)))
	}
	wsutil.WriteClientText(w, []byte(`[2,"queued","http://tagwamp.dev/procedure#ping"]`))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if m := pub.Recv(); m != `[3,"queued","pong"]` {
		t.Fatalf("ping answered %s", m)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The drain has begun when the publisher, with nothing queued, is closed.
	expectShutdownClose(t, pub, 0)
	select {
	case err := <-p.exited:
		t.Fatalf("exited (%v) after one signal while a subscriber still had events queued\n%s", err, p.logs)
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Success() {
			t.Fatalf("exit after the second signal: %v, want killed by it", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after a second SIGTERM\n%s", p.logs)
	}
}

// tcpWmemMax is the largest send buffer Linux grows a socket to (the last
// field of net.ipv4.tcp_wmem), or 4 MiB where that cannot be read.
func tcpWmemMax() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if f := strings.Fields(string(b)); err == nil && len(f) == 3 {
		if n, err := strconv.Atoi(f[2]); err == nil && n > 0 {
			return n
		}
	}
	return 4 << 20
}

// rawDial connects offering "wamp" and reads WELCOME; rcvbuf, when not 0,
// sets the socket's receive buffer before it connects. Reads wait up to 20s.
func rawDial(t *testing.T, url string, rcvbuf int) *wstest.Client {
	t.Helper()
	return wstest.Dial(t, url, wstest.Options{RcvBuf: rcvbuf, ReadTimeout: 20 * time.Second})
}

// expectShutdownClose fails t unless the next frame c reads is the close
// frame of a shutdown; who names the client. It may run on any goroutine.
func expectShutdownClose(t *testing.T, c *wstest.Client, who int) {
	if err := c.CheckClose(1001, "server shutting down"); err != nil {
		t.Errorf("client %d: %v", who, err)
	}
}
