package auth

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
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

// checkGoroutines fails the run if goroutines of this package (a delayed
// CRA answer, an auth timer) outlive the tests.
func checkGoroutines() error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		st := string(buf[:runtime.Stack(buf, true)])
		leaked := ""
		for _, g := range strings.Split(st, "\n\n") {
			if strings.Contains(g, "tagwamp/auth.") && !strings.Contains(g, "auth.TestMain") &&
				!strings.Contains(g, "auth.checkGoroutines") {
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

const (
	appKey    = "application1"
	appSecret = Secret("B4ajW3P7jfWEYPZsQV8mnteHg97G67uW")
)

// whoami is the procedure tests call to see a session's identity.
const whoami = "urn:test#whoami"

// startAuth serves a router with a installed and returns the ws:// URL.
// Its RPC handler answers whoami with the caller's identity and any other
// URI with "ok:<uri>".
func startAuth(t testing.TB, o Options, ro router.Options) (*Auth, *router.Server, string) {
	t.Helper()
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if ro.RPC == nil {
		ro.RPC = router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			if c.URI == whoami {
				id := IdentityOf(s)
				return map[string]string{"method": id.Method.String(), "key": id.Key, "subject": id.Subject,
					"bound": id.Bound.String(), "uri": s.Request().URI}, nil
			}
			return "ok:" + c.URI, nil
		})
	}
	a.Install(&ro)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(ro)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-done
	})
	return a, srv, "ws://" + ln.Addr().String() + "/"
}

// wsClient is a raw WAMP v1 client: it sends exactly the text a test gives
// and reports exactly what arrives.
type wsClient struct {
	t     testing.TB
	conn  net.Conn
	r     *wsutil.Reader
	sid   string
	close ws.StatusCode
}

// dial opens a WAMP session at url (with its query) and reads WELCOME.
func dial(t testing.TB, url string) *wsClient {
	t.Helper()
	d := ws.Dialer{Protocols: []string{"wamp"}, Timeout: 5 * time.Second}
	conn, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	var src io.Reader = conn
	if br != nil {
		src = io.MultiReader(br, conn)
	}
	c := &wsClient{t: t, conn: conn, r: &wsutil.Reader{Source: src, State: ws.StateClientSide, CheckUTF8: true}}
	t.Cleanup(func() { conn.Close() })
	var w []any
	c.recvJSON(&w)
	if len(w) != 4 || w[0] != float64(0) {
		t.Fatalf("first message is not a WELCOME: %v", w)
	}
	c.sid = w[1].(string)
	return c
}

func (c *wsClient) send(msg string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.conn, []byte(msg)); err != nil {
		c.t.Fatalf("send %s: %v", msg, err)
	}
}

var errClosed = errors.New("close frame")

// next returns the next data message; a close frame ends it with errClosed
// and records the code, the reason being returned.
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
		return string(b), err
	}
}

func (c *wsClient) recv() string {
	c.t.Helper()
	m, err := c.next(5 * time.Second)
	if err != nil {
		c.t.Fatalf("recv: %v (close %d %q)", err, c.close, m)
	}
	return m
}

func (c *wsClient) recvJSON(v any) {
	c.t.Helper()
	m := c.recv()
	if err := json.Unmarshal([]byte(m), v); err != nil {
		c.t.Fatalf("message %q: %v", m, err)
	}
}

// call sends [2, id, uri, args...] and returns the answer to that id.
func (c *wsClient) call(id, uri string, args ...any) []any {
	c.t.Helper()
	msg := []any{2, id, uri}
	msg = append(msg, args...)
	b, err := json.Marshal(msg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(string(b))
	var r []any
	c.recvJSON(&r)
	if len(r) < 3 || r[1] != id {
		c.t.Fatalf("answer %v is not for call %s", r, id)
	}
	return r
}

// mustResult calls and returns the CALLRESULT's result.
func (c *wsClient) mustResult(uri string, args ...any) any {
	c.t.Helper()
	r := c.call("r", uri, args...)
	if r[0] != float64(3) {
		c.t.Fatalf("call %s %v: got %v", uri, args, r)
	}
	return r[2]
}

// callError calls and returns the CALLERROR's URI and description.
func (c *wsClient) callError(uri string, args ...any) (string, string) {
	c.t.Helper()
	r := c.call("e", uri, args...)
	if r[0] != float64(4) || len(r) < 4 {
		c.t.Fatalf("call %s %v: want a CALLERROR, got %v", uri, args, r)
	}
	return r[2].(string), r[3].(string)
}

// expectEvent reads the next message and checks it is EVENT(topic, event).
func (c *wsClient) expectEvent(topic string, event any) {
	c.t.Helper()
	var r []any
	c.recvJSON(&r)
	want, _ := json.Marshal([]any{8, topic, event})
	got, _ := json.Marshal(r)
	if string(got) != string(want) {
		c.t.Fatalf("got %s, want %s", got, want)
	}
}

// expectClose reads until a close frame and checks its code and reason.
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

// upgrade sends an upgrade request for path (with query) offering "wamp"
// and returns the status and body of the answer.
func upgrade(t testing.TB, url, path string) (int, string) {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp.StatusCode, ""
	}
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
