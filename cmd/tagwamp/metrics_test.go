package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/client"
)

// scrape is one reading of /metrics: per sample of the families it was
// asked for, its name and labels without "le" (a series), and its value.
type scrape map[string]float64

var leLabel = regexp.MustCompile(`,?le="[^"]*"`)

// scrapeMetrics GETs url and keeps the samples of names' families.
func scrapeMetrics(t *testing.T, url string, names ...string) scrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s := make(scrape)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for _, n := range names {
			if !strings.HasPrefix(line, n) || strings.HasPrefix(line, "#") {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				t.Fatalf("sample %q: %v", line, err)
			}
			s[strings.Replace(leLabel.ReplaceAllString(line[:i], ""), "{}", "", 1)] += v
		}
	}
	return s
}

// series returns the distinct series (label sets, buckets aside) of the
// family name: histograms add no series as traffic grows.
func (s scrape) series(name string) []string {
	var out []string
	for k := range s {
		if rest, ok := strings.CutPrefix(k, name+"_count"); ok {
			out = append(out, rest)
		}
	}
	return out
}

// TestLatencyHistograms drives real traffic at the command over real
// sockets (WAMP calls of built-in, unknown and forwarded procedures,
// /api/call, a publication to a subscriber) and scrapes its /metrics:
// each histogram counts what it observed, and hundreds of distinct
// procedure URIs add no series.
func TestLatencyHistograms(t *testing.T) {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"result": 1}`)
	}))
	t.Cleanup(svc.Close)
	conf := appRouteConfig(t, svc.URL)
	r := startRun(t, "-config", conf, "-debug-addr", "127.0.0.1:0")
	metricsURL := "http://" + r.debug.String() + "/metrics"
	const (
		rpc   = "tagwamp_rpc_handler_seconds"
		queue = "tagwamp_delivery_queue_delay_seconds"
		fwd   = "tagwamp_forward_call_seconds"
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://"+r.addr.String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan struct{}, 1)
	if err := c.Subscribe("http://example.com/news", func(string, json.RawMessage) { got <- struct{}{} }); err != nil {
		t.Fatal(err)
	}

	// A few calls of each kind, then a scrape: the series that exist.
	round := func(from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			var pong string
			if err := c.Call(ctx, "http://tagwamp.dev/procedure#ping", &pong); err != nil {
				t.Fatal(err)
			}
			if err := c.Call(ctx, fmt.Sprintf("http://example.com/nope#%d", i), nil); err == nil {
				t.Fatal("an unknown procedure answered")
			}
			var one int
			if err := c.Call(ctx, fmt.Sprintf("http://example.com/app#p%d", i), &one); err != nil || one != 1 {
				t.Fatalf("forwarded call: %d, %v", one, err)
			}
		}
	}
	round(0, 3)
	before := waitCounts(t, metricsURL, map[string]float64{
		rpc + `_count{outcome="result"}`:         3,
		rpc + `_count{outcome="error"}`:          3,
		rpc + `_count{outcome="deferred"}`:       3,
		fwd + `_count{outcome="ok",route="app"}`: 3,
	}, rpc, fwd)

	round(3, 200)
	resp, err := http.Post("http://"+r.addr.String()+"/api/call", "application/json",
		strings.NewReader(`{"procedure": "http://tagwamp.dev/procedure#ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "pong") {
		t.Fatalf("/api/call: %d %s", resp.StatusCode, b)
	}
	resp.Body.Close()
	queued := scrapeMetrics(t, metricsURL, queue)[queue+"_count"]
	if err := c.Publish("http://example.com/news", "hello", client.ExcludeMe(false)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-ctx.Done():
		t.Fatal("no event")
	}
	after := waitCounts(t, metricsURL, map[string]float64{
		rpc + `_count{outcome="result"}`:         204, // ping over WAMP and /api/call
		rpc + `_count{outcome="error"}`:          203,
		rpc + `_count{outcome="deferred"}`:       203,
		fwd + `_count{outcome="ok",route="app"}`: 203,
		queue + "_count":                         queued + 1, // the EVENT's write
	}, rpc, fwd, queue)
	for _, name := range []string{rpc, fwd} {
		b, a := before.series(name), after.series(name)
		if len(a) != len(b) || len(a) == 0 {
			t.Errorf("%s: series %q after 200 distinct URIs, %q before", name, a, b)
		}
	}
	if n := len(after.series(rpc)); n != 3 {
		t.Errorf("%s: %d series, want one per outcome: %q", rpc, n, after.series(rpc))
	}
}

// waitCounts scrapes url until every sample of want has at least its
// value (an observation can follow the answer the test saw), within a
// generous deadline, and returns the last scrape of families.
func waitCounts(t *testing.T, url string, want map[string]float64, families ...string) scrape {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s := scrapeMetrics(t, url, families...)
		short := ""
		for k, v := range want {
			if s[k] < v {
				short += fmt.Sprintf(" %s=%v (want %v)", k, s[k], v)
			}
		}
		if short == "" {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s:%s", short)
		}
	}
}

// TestShutdownDrainsForwardedCalls: stopping the command as SIGTERM does
// while a forwarded call is running lets that call's answer reach its
// caller before the session closes, and the command exits cleanly.
func TestShutdownDrainsForwardedCalls(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-release
		io.WriteString(w, `{"result": "late"}`)
	}))
	t.Cleanup(svc.Close)
	conf := appRouteConfig(t, svc.URL)
	r := startRun(t, "-config", conf)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://"+r.addr.String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	answered := make(chan error, 1)
	var res string
	go func() { answered <- c.Call(ctx, "http://example.com/app#slow", &res) }()
	<-arrived
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	// The listener closes as the shutdown starts; the drain then waits for
	// the call, which waits for release.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		nc, err := net.Dial("tcp", r.addr.String())
		if err != nil {
			break
		}
		nc.Close()
		if time.Now().After(deadline) {
			t.Fatal("still listening 10s after the stop")
		}
	}
	close(release)
	if err := <-answered; err != nil || res != "late" {
		t.Fatalf("forwarded call during shutdown: %q, %v", res, err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run = %v\n%s", err, r.logs)
	}
}

// appRouteConfig writes a configuration file whose one forward route, app,
// sends CALLs under http://example.com/app# to url, and returns its path.
func appRouteConfig(t *testing.T, url string) string {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "tagwamp.yaml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `
forward:
  routes:
    - {name: app, prefix: "http://example.com/app#", url: "%s"}
`, url), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf
}
