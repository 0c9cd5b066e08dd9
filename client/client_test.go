package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func TestDial(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s, WithHeader(http.Header{"Origin": {"https://example.com"}}))
	if got := c.SessionID(); got != "sess-1" {
		t.Errorf("SessionID() = %q, want sess-1", got)
	}
	if got := c.ServerIdent(); got != "fake/1.0" {
		t.Errorf("ServerIdent() = %q, want fake/1.0", got)
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err() = %v on a live client", err)
	}
	select {
	case <-c.Done():
		t.Error("Done closed on a live client")
	default:
	}
}

func TestDialFailures(t *testing.T) {
	tests := []struct {
		name string
		cfg  fakeConfig
		opts []Option
		want error
	}{
		{name: "no subprotocol selected", cfg: fakeConfig{noSubprotocol: true}, want: ErrSubprotocol},
		{name: "no subprotocol, nothing sent", cfg: fakeConfig{noSubprotocol: true, welcome: "-"}, want: ErrSubprotocol},
		{name: "upgrade refused", cfg: fakeConfig{reject: true}, want: ws.StatusError(400)},
		{name: "first message not WELCOME", cfg: fakeConfig{welcome: `[8,"t",1]`}, want: ErrWelcome},
		{name: "WELCOME for version 2", cfg: fakeConfig{welcome: `[0,"s",2,"x"]`}, want: ErrVersion},
		{name: "garbage instead of WELCOME", cfg: fakeConfig{welcome: `{"hello"`}, want: ErrWelcome},
		{name: "no WELCOME in time", cfg: fakeConfig{welcome: "-"}, opts: []Option{WithDialTimeout(100 * time.Millisecond)}, want: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeServer(t, tt.cfg)
			c, err := Dial(context.Background(), s.url, tt.opts...)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Dial error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDialContextCancelled(t *testing.T) {
	s := newFakeServer(t, fakeConfig{welcome: "-"})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := Dial(ctx, s.url)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Dial error %v, want context.Canceled", err)
	}
}

func TestDialBadURL(t *testing.T) {
	if _, err := Dial(context.Background(), "not a url"); err == nil {
		t.Error("Dial succeeded")
	}
}

// everyMethod calls each method of c and returns their errors by name.
func everyMethod(c *Client) map[string]error {
	return map[string]error{
		"Call":        c.Call(context.Background(), "http://x/p", nil),
		"Publish":     c.Publish("http://x/t", 1),
		"Subscribe":   c.Subscribe("http://x/t", func(string, json.RawMessage) {}),
		"Unsubscribe": c.Unsubscribe("http://x/t"),
		"Prefix":      c.Prefix("x", "http://x/"),
		"Close":       c.Close(),
	}
}

func TestClose(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitDone(t, c)
	select {
	case p := <-sc.closes:
		if code, _ := ws.ParseCloseFrameData(p); code != ws.StatusNormalClosure {
			t.Errorf("close code %d, want 1000", code)
		}
	case <-time.After(waitTimeout):
		t.Fatal("server got no close frame")
	}
	if err := c.Err(); !errors.Is(err, ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", err)
	}
	for name, err := range everyMethod(c) {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestCloseServerSilent(t *testing.T) {
	s := newFakeServer(t, fakeConfig{noCloseEcho: true})
	c := dial(t, s, WithCloseTimeout(50*time.Millisecond))
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	waitDone(t, c)
}

func TestServerDrop(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	callErr := make(chan error, 1)
	go func() { callErr <- c.Call(context.Background(), "http://x/never", nil) }()
	sc.expect(t, `[2,"1","http://x/never"]`)
	sc.conn.Close()
	select {
	case err := <-callErr:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("pending call: %v, want ErrClosed", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("pending call not failed")
	}
	waitDone(t, c)
	if err := c.Err(); err == nil || errors.Is(err, ErrClosed) {
		t.Errorf("Err() = %v, want the I/O error", err)
	}
	for name, err := range everyMethod(c) {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after drop: %v, want ErrClosed", name, err)
		}
	}
}

func TestServerClose(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	sc.write(ws.OpClose, ws.NewCloseFrameBody(ws.StatusGoingAway, "shutting down"))
	waitDone(t, c)
	var ce *CloseError
	if err := c.Err(); !errors.As(err, &ce) || ce.Code != 1001 || ce.Reason != "shutting down" {
		t.Errorf("Err() = %v, want CloseError 1001 shutting down", err)
	}
	select {
	case p := <-sc.closes:
		if code, _ := ws.ParseCloseFrameData(p); code != ws.StatusGoingAway {
			t.Errorf("client echoed close code %d, want 1001", code)
		}
	case <-time.After(waitTimeout):
		t.Fatal("client did not echo the close frame")
	}
	if err := c.Publish("http://x/t", 1); !errors.Is(err, ErrClosed) || !errors.As(err, &ce) {
		t.Errorf("Publish after server close: %v, want ErrClosed wrapping the CloseError", err)
	}
}

func TestServerProtocolViolation(t *testing.T) {
	tests := []struct {
		name  string
		send  func(sc *serverConn)
		code  ws.StatusCode
		inErr string
	}{
		{"invalid JSON", func(sc *serverConn) { sc.send(`[8,"t",`) }, ws.StatusInvalidFramePayloadData, "invalid JSON"},
		{"binary frame", func(sc *serverConn) { sc.write(ws.OpBinary, []byte(`[8,"t",1]`)) }, ws.StatusUnsupportedData, "binary"},
		{"too big", func(sc *serverConn) { sc.send(`[8,"t","` + strings.Repeat("x", 200) + `"]`) }, ws.StatusMessageTooBig, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeServer(t, fakeConfig{})
			c := dial(t, s, WithMaxMessageSize(100))
			sc := s.accept(t)
			tt.send(sc)
			waitDone(t, c)
			if err := c.Err(); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), tt.inErr) {
				t.Errorf("Err() = %v, want ErrProtocol about %q", err, tt.inErr)
			}
			select {
			case p := <-sc.closes:
				if code, _ := ws.ParseCloseFrameData(p); code != tt.code {
					t.Errorf("close code %d, want %d", code, tt.code)
				}
			case <-time.After(waitTimeout):
				t.Fatal("client sent no close frame")
			}
		})
	}
}

func TestPingAnswered(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	for _, payload := range []string{"", "are you there?"} {
		sc.write(ws.OpPing, []byte(payload))
		select {
		case got := <-sc.pongs:
			if got != payload {
				t.Errorf("pong %q, want %q", got, payload)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("no pong for ping %q", payload)
		}
	}
	if c.Err() != nil {
		t.Errorf("Err() = %v", c.Err())
	}
}

func TestCloseFromHandler(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	closed := make(chan error, 1)
	if err := c.Subscribe("http://x/t", func(string, json.RawMessage) { closed <- c.Close() }); err != nil {
		t.Fatal(err)
	}
	sc.expect(t, `[5,"http://x/t"]`)
	sc.send(`[8,"http://x/t",null]`)
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close from handler: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Close from a handler blocked")
	}
	waitDone(t, c)
}
