package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tagwamp/tagwamp/router"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := checkGoroutines(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// checkGoroutines fails the run if router goroutines outlive the tests.
func checkGoroutines() error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		st := string(buf[:runtime.Stack(buf, true)])
		leaked := ""
		for _, g := range strings.Split(st, "\n\n") {
			if strings.Contains(g, "tagwamp/router.") && !strings.Contains(g, "router.(*pool).run") {
				leaked = g
				break
			}
		}
		if leaked == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("leaked goroutine:\n" + leaked)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startServer serves o on a loopback port and shuts it down with the test.
func startServer(t testing.TB, o router.Options) (*router.Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(o)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, router.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return srv, "ws://" + ln.Addr().String() + "/"
}

// wsClient is a raw WebSocket client for conformance tests: it sends
// exactly the bytes a test gives and reports exactly what arrives.
type wsClient struct {
	t     testing.TB
	conn  net.Conn
	r     *wsutil.Reader
	sid   string
	hs    ws.Handshake
	close ws.StatusCode
}

// dial connects offering protos and, when "wamp" is offered, reads WELCOME.
func dial(t testing.TB, url string, protos ...string) *wsClient {
	t.Helper()
	if protos == nil {
		protos = []string{"wamp"}
	}
	c, err := tryDial(url, protos...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.t = t
	t.Cleanup(func() { c.conn.Close() })
	var w []any
	c.recvJSON(&w)
	if len(w) != 4 || w[0] != float64(0) || w[2] != float64(1) {
		t.Fatalf("first message is not a WELCOME: %v", w)
	}
	c.sid = w[1].(string)
	return c
}

func tryDial(url string, protos ...string) (*wsClient, error) {
	return tryDialWithin(5*time.Second, url, protos...)
}

// tryDialWithin is tryDial with a bound on the TCP connect and the
// handshake together: a failure guard, never a timing.
func tryDialWithin(timeout time.Duration, url string, protos ...string) (*wsClient, error) {
	d := ws.Dialer{Protocols: protos, Timeout: timeout}
	conn, br, hs, err := d.Dial(context.Background(), url)
	if err != nil {
		return nil, err
	}
	var src io.Reader = conn
	if br != nil {
		src = io.MultiReader(br, conn)
	}
	c := &wsClient{conn: conn, hs: hs}
	c.r = &wsutil.Reader{Source: src, State: ws.StateClientSide, CheckUTF8: true}
	return c, nil
}

// send sends one text message.
func (c *wsClient) send(msg string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(msg)); err != nil {
		c.t.Fatalf("send %s: %v", msg, err)
	}
}

// sendFrame sends one raw frame (masked, as a client must).
func (c *wsClient) sendFrame(f ws.Frame) {
	c.t.Helper()
	if err := ws.WriteFrame(c.conn, ws.MaskFrameInPlace(f)); err != nil {
		c.t.Fatalf("send frame: %v", err)
	}
}

// next returns the next data message, answering nothing; a close frame
// ends it with errClosed and records the code.
func (c *wsClient) next(timeout time.Duration) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
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
				code, _ := ws.ParseCloseFrameData(p)
				c.close = code
				return string(p[min(2, len(p)):]), errClosed
			}
			if h.OpCode == ws.OpPing {
				ws.WriteFrame(c.conn, ws.MaskFrameInPlace(ws.NewPongFrame(p)))
			}
			continue
		}
		b, err := io.ReadAll(c.r)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
}

var errClosed = errors.New("close frame")

// recv returns the next message or fails the test.
func (c *wsClient) recv() string {
	c.t.Helper()
	m, err := c.next(5 * time.Second)
	if err != nil {
		c.t.Fatalf("recv: %v (close %d %q)", err, c.close, m)
	}
	return m
}

// recvJSON decodes the next message into v.
func (c *wsClient) recvJSON(v any) {
	c.t.Helper()
	m := c.recv()
	if err := json.Unmarshal([]byte(m), v); err != nil {
		c.t.Fatalf("message %q: %v", m, err)
	}
}

// expectNothing asserts that no message arrives within d.
func (c *wsClient) expectNothing(d time.Duration) {
	c.t.Helper()
	if m, err := c.next(d); err == nil {
		c.t.Fatalf("unexpected message %s", m)
	} else if errors.Is(err, errClosed) {
		c.t.Fatalf("unexpected close %d %q", c.close, m)
	}
}

// expectClose asserts that the server closes with code and a reason
// containing want.
func (c *wsClient) expectClose(code ws.StatusCode, want string) {
	c.t.Helper()
	for {
		m, err := c.next(5 * time.Second)
		if err == nil {
			continue
		}
		if !errors.Is(err, errClosed) {
			c.t.Fatalf("want close %d, got %v", code, err)
		}
		if c.close != code || !strings.Contains(m, want) {
			c.t.Fatalf("close %d %q, want %d containing %q", c.close, m, code, want)
		}
		return
	}
}

// call sends a CALL and returns the decoded reply.
func (c *wsClient) call(msg string) []any {
	c.t.Helper()
	c.send(msg)
	var r []any
	c.recvJSON(&r)
	return r
}

// rawHandshake sends an upgrade request offering protos (none when empty)
// and returns the whole response.
func rawHandshake(t testing.TB, url string, protos []string) string {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	if len(protos) > 0 {
		req += "Sec-WebSocket-Protocol: " + strings.Join(protos, ", ") + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(conn)
	return string(b)
}
