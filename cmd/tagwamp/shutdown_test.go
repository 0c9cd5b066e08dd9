//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
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
	subs := make([]*rawClient, subscribers)
	for i := range subs {
		subs[i] = rawDial(t, url, 4096)
		subs[i].send(`[5,"` + topic + `"]`)
	}
	pub := rawDial(t, url, 0)
	for _, s := range subs { // their subscriptions are in place
		s.send(`[2,"sub","http://tagwamp.dev/procedure#ping"]`)
		if m := s.recv(); m != `[3,"sub","pong"]` {
			t.Fatalf("ping answered %s", m)
		}
	}
	payload := func(i int) string {
		p := fmt.Sprintf(`{"seq":%d,"pad":"`, i)
		return p + strings.Repeat("z", eventSize-len(p)-2) + `"}`
	}
	w := bufio.NewWriterSize(pub.conn, 1<<16)
	for i := range events {
		wsutil.WriteClientText(w, []byte(fmt.Sprintf(`[7,%q,%s]`, topic, payload(i))))
	}
	wsutil.WriteClientText(w, []byte(`[2,"queued","http://tagwamp.dev/procedure#ping"]`))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// The publisher's messages are handled in order: when the ping is
	// answered, every event is queued for every subscriber.
	if m := pub.recv(); m != `[3,"queued","pong"]` {
		t.Fatalf("ping answered %s", m)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The publisher has nothing queued: its close frame comes first, and
	// the server closes its listener before it closes any session.
	pub.expectClose(1001, "server shutting down", 0)
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
				m, err := s.next()
				if err != nil {
					t.Errorf("subscriber %d, event %d of %d: %v (close %d %q)", i, n, events, err, s.code, m)
					return
				}
				if want := fmt.Sprintf(`[8,%q,%s]`, topic, payload(n)); m != want {
					t.Errorf("subscriber %d, event %d: got %.60q", i, n, m)
					return
				}
			}
			s.expectClose(1001, "server shutting down", i)
		})
	}
	wg.Wait()
	for _, s := range subs {
		s.conn.Close()
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

// startBinary builds cmd/tagwamp, runs it on a free loopback port with
// the configuration cfg, and waits until it listens; the test's cleanup
// kills it if it still runs.
func startBinary(t *testing.T, cfg string) *process {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tagwamp")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-config", writeFile(t, cfg), "-addr", "127.0.0.1:0")
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
	sub.send(`[5,"` + topic + `"]`)
	pub := rawDial(t, url, 0)
	sub.send(`[2,"sub","http://tagwamp.dev/procedure#ping"]`)
	if m := sub.recv(); m != `[3,"sub","pong"]` {
		t.Fatalf("ping answered %s", m)
	}
	// More than the kernel buffers, so the drain cannot finish.
	w := bufio.NewWriterSize(pub.conn, 1<<16)
	event := `"` + strings.Repeat("z", 1000) + `"`
	for range 2 * tcpWmemMax() / 1000 {
		wsutil.WriteClientText(w, []byte(fmt.Sprintf(`[7,%q,%s]`, topic, event)))
	}
	wsutil.WriteClientText(w, []byte(`[2,"queued","http://tagwamp.dev/procedure#ping"]`))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if m := pub.recv(); m != `[3,"queued","pong"]` {
		t.Fatalf("ping answered %s", m)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The drain has begun when the publisher, with nothing queued, is closed.
	pub.expectClose(1001, "server shutting down", 0)
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

// rawClient is a minimal WebSocket client that reports close frames.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *wsutil.Reader
	code ws.StatusCode
}

// rawDial connects offering "wamp" and reads WELCOME; rcvbuf, when not 0,
// sets the socket's receive buffer before it connects.
func rawDial(t *testing.T, url string, rcvbuf int) *rawClient {
	t.Helper()
	nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		if rcvbuf == 0 {
			return nil
		}
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		}); err != nil {
			return err
		}
		return serr
	}}
	d := ws.Dialer{Protocols: []string{"wamp"}, Timeout: 5 * time.Second, NetDial: nd.DialContext}
	conn, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	var src io.Reader = conn
	if br != nil {
		src = io.MultiReader(br, conn)
	}
	c := &rawClient{t: t, conn: conn, r: &wsutil.Reader{Source: src, State: ws.StateClientSide, CheckUTF8: true}}
	if m := c.recv(); !strings.HasPrefix(m, `[0,"`) {
		t.Fatalf("first message is not a WELCOME: %s", m)
	}
	return c
}

func (c *rawClient) send(msg string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

var errClosed = errors.New("close frame")

// next returns the next data message; a close frame ends it with errClosed,
// its reason as the message and its code in c.code.
func (c *rawClient) next() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		h, err := c.r.NextFrame()
		if err != nil {
			return "", err
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(c.r, p); err != nil {
				return "", err
			}
			if h.OpCode == ws.OpClose {
				c.code, _ = ws.ParseCloseFrameData(p)
				return string(p[min(2, len(p)):]), errClosed
			}
			continue
		}
		b, err := io.ReadAll(c.r)
		return string(b), err
	}
}

func (c *rawClient) recv() string {
	c.t.Helper()
	m, err := c.next()
	if err != nil {
		c.t.Fatalf("recv: %v (close %d %q)", err, c.code, m)
	}
	return m
}

// expectClose asserts that the next frame is a close frame with code and
// reason; who names the client in the failure. It may run on any goroutine.
func (c *rawClient) expectClose(code ws.StatusCode, reason string, who int) {
	m, err := c.next()
	if !errors.Is(err, errClosed) || c.code != code || m != reason {
		c.t.Errorf("client %d: got %.60q, %v (close %d); want close %d %q", who, m, err, c.code, code, reason)
	}
}
