package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/httpapi"
	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// benchServer is a router serving its HTTP API on its own port, as
// cmd/tagwamp does, with subs WAMP subscribers of topic that read and drop
// what they are sent. The client keeps its connections alive.
type benchServer struct {
	base   string
	client *http.Client
}

func startBench(b *testing.B, subs int, topic string, rpc router.RPCHandler) *benchServer {
	b.Helper()
	var api http.Handler
	srv := router.New(router.Options{
		RPC:         rpc,
		MessageRate: router.RateLimit{PerSecond: -1},
		ByteRate:    router.RateLimit{PerSecond: -1},
		HTTP:        http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { api.ServeHTTP(w, r) }),
	})
	h, err := httpapi.New(httpapi.Config{Server: srv, Ready: srv.Ready, Rate: router.RateLimit{PerSecond: -1}})
	if err != nil {
		b.Fatal(err)
	}
	api = h
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	url := "ws://" + ln.Addr().String() + "/"
	var wg sync.WaitGroup
	for range subs {
		c := wstest.Dial(b, url, wstest.Options{})
		c.Send(fmt.Sprintf(`[5,%q]`, topic))
		wg.Go(func() { io.Copy(io.Discard, c.Source()) })
	}
	for srv.Stats().Subscriptions != int64(subs) {
		time.Sleep(time.Millisecond)
	}
	return &benchServer{base: "http://" + ln.Addr().String(), client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
}

func (s *benchServer) post(b *testing.B, path string, body []byte) []byte {
	resp, err := s.client.Post(s.base+path, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: %d %s", path, resp.StatusCode, out)
	}
	return out
}

// BenchmarkHTTPPublish is one POST /api/publish per op over a kept-alive
// connection, each publication reaching subs WAMP subscribers on the same
// server (whose reading, in this process, the figure includes):
// requests/s is the API's rate for single publications.
func BenchmarkHTTPPublish(b *testing.B) {
	for _, subs := range []int{1, 100} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			s := startBench(b, subs, "http://x.com/t?g=1", nil)
			body := []byte(`{"topic": "http://x.com/t?g=1", "event": {"title": "hello", "n": 12345}}`)
			b.ReportAllocs()
			for b.Loop() {
				s.post(b, "/api/publish", body)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "publications/s")
		})
	}
}

// BenchmarkHTTPBatch is one POST /api/batch of 100 publications per op,
// each reaching subs WAMP subscribers: publications/s is what batching
// buys (one request, and one writev per receiver for the whole batch).
func BenchmarkHTTPBatch(b *testing.B) {
	for _, subs := range []int{1, 100} {
		b.Run(fmt.Sprintf("subs=%d", subs), func(b *testing.B) {
			s := startBench(b, subs, "http://x.com/t?g=1", nil)
			var items []string
			for i := range 100 {
				items = append(items, fmt.Sprintf(`{"topic": "http://x.com/t?g=1", "event": {"title": "hello", "n": %d}}`, i))
			}
			body := []byte("[" + strings.Join(items, ",") + "]")
			b.ReportAllocs()
			for b.Loop() {
				s.post(b, "/api/batch", body)
			}
			b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "publications/s")
		})
	}
}

// BenchmarkHTTPCall is one POST /api/call per op to a procedure that
// answers at once, beside BenchmarkWAMPCall, the same procedure called over
// a WAMP session: the round trips compare the two ways in.
func BenchmarkHTTPCall(b *testing.B) {
	s := startBench(b, 0, "", router.RPCHandlerFunc(echoProc))
	body := []byte(`{"procedure": "http://x.com/echo", "args": [1, "two"]}`)
	b.ReportAllocs()
	for b.Loop() {
		s.post(b, "/api/call", body)
	}
}

// BenchmarkWAMPCall is BenchmarkHTTPCall's procedure called over WAMP.
func BenchmarkWAMPCall(b *testing.B) {
	s := startBench(b, 0, "", router.RPCHandlerFunc(echoProc))
	c := wstest.Dial(b, "ws"+strings.TrimPrefix(s.base, "http")+"/", wstest.Options{})
	frame := wstest.MaskedFrame(ws.OpText, `[2,"c","http://x.com/echo",1,"two"]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Conn.Write(frame); err != nil {
			b.Fatal(err)
		}
		c.Recv()
	}
}

func echoProc(_ context.Context, _ *router.Session, c *router.Call) (any, error) {
	return c.Args, nil
}
