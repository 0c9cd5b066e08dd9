package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func TestFragmentedMessageWithPing(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	events := make(chan event, 1)
	if err := c.Subscribe("http://x/t", recorder(events)); err != nil {
		t.Fatal(err)
	}
	sc.expect(t, `[5,"http://x/t"]`)
	sc.wmu.Lock()
	ws.WriteFrame(sc.conn, ws.NewFrame(ws.OpText, false, []byte(`[8,"http://x/t",`)))
	ws.WriteFrame(sc.conn, ws.NewFrame(ws.OpPing, true, []byte("mid")))
	ws.WriteFrame(sc.conn, ws.NewFrame(ws.OpContinuation, false, []byte(`"split`)))
	ws.WriteFrame(sc.conn, ws.NewFrame(ws.OpContinuation, true, []byte(` event"]`)))
	sc.wmu.Unlock()
	expectEvent(t, events, event{"http://x/t", `"split event"`})
	select {
	case got := <-sc.pongs:
		if got != "mid" {
			t.Errorf("pong %q, want mid", got)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no pong for the ping between fragments")
	}
}

func TestWriteOnBrokenSocket(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	c.conn.Close()
	if err := c.Publish("http://x/t", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish on a closed socket: %v, want ErrClosed", err)
	}
	waitDone(t, c)
	if c.Err() == nil {
		t.Error("Err() = nil after the socket broke")
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestLogger(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	var buf syncBuffer
	c := dial(t, s, WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	sc := s.accept(t)
	sc.send(`[3,"nobody",1]`)
	sc.send(`[8,"http://x/nobody",1]`)
	sc.send(`[1,"p","http://x/"]`)
	sc.conn.Close()
	waitDone(t, c)
	for _, want := range []string{
		"reply for no pending call dropped",
		"event for no subscription dropped",
		"unexpected message from server dropped",
		"connection ended",
		"session=sess-1",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestDialTLS(t *testing.T) {
	var wg sync.WaitGroup
	defer wg.Wait()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := ws.HTTPUpgrader{Protocol: func(p string) bool { return p == "wamp" }}
		conn, _, _, err := u.Upgrade(r, w)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			wsutil.WriteServerText(conn, []byte(`[0,"tls-session",1,"fake/tls"]`))
			for {
				if _, _, err := wsutil.ReadClientData(conn); err != nil {
					return
				}
			}
		}()
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https"), WithTLSConfig(&tls.Config{RootCAs: roots}), WithWriteTimeout(time.Second))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if c.SessionID() != "tls-session" {
		t.Errorf("SessionID() = %q", c.SessionID())
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestHandlerMayPublish(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)
	c.Subscribe("http://x/ping", func(_ string, e json.RawMessage) {
		if err := c.Publish("http://x/pong", e); err != nil {
			t.Error(err)
		}
	})
	sc.expect(t, `[5,"http://x/ping"]`)
	sc.send(`[8,"http://x/ping",{"n":1}]`)
	sc.expect(t, `[7,"http://x/pong",{"n":1}]`)
}
