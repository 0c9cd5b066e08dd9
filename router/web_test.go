package router_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// TestHTTPOnTheSamePort: requests that are not WebSocket upgrades go to
// Options.HTTP, on the port and the connections the sessions use.
func TestHTTPOnTheSamePort(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Query().Get("name"))
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		w.Write(b)
	})
	_, url := startServer(t, router.Options{HTTP: mux})
	base := "http" + strings.TrimPrefix(url, "ws")
	client := &http.Client{Timeout: 10 * time.Second}
	for range 3 { // keep-alive: the same connection serves the next request
		resp, err := client.Get(base + "hello?name=tagwamp")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "hello tagwamp" {
			t.Fatalf("GET: %d %q", resp.StatusCode, b)
		}
	}
	resp, err := client.Post(base+"echo", "text/plain", strings.NewReader(strings.Repeat("x", 100_000)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != 100_000 {
		t.Fatalf("POST echoed %d bytes", len(b))
	}
	if resp, err := client.Get(base + "nothing"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("unknown path: %v %v", resp, err)
	}
	// WebSocket sessions on the same port, as before.
	c := dial(t, url)
	c.Send(`[2,"1","http://example.com/none"]`)
	c.Recv()
}

// TestHTTPHeadLimits: an HTTP request's head is bounded like an upgrade's.
func TestHTTPHeadLimits(t *testing.T) {
	_, url := startServer(t, router.Options{HTTP: http.NotFoundHandler(), MaxHeaderLine: 1024})
	nc, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n", strings.Repeat("c", 4096))
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil || !strings.Contains(status, "431") {
		t.Fatalf("status %q, %v", status, err)
	}
}

// TestHTTPConnLimit: past MaxHTTPConns an HTTP connection gets 503.
func TestHTTPConnLimit(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })
	_, url := startServer(t, router.Options{HTTP: h, MaxHTTPConns: 1})
	base := "http" + strings.TrimPrefix(url, "ws")
	go http.Get(base) // holds the one place
	time.Sleep(100 * time.Millisecond)
	client := &http.Client{Timeout: 10 * time.Second}
	var resp *http.Response
	var err error
	waitFor(t, func() bool {
		resp, err = client.Get(base)
		return err == nil && resp.StatusCode == http.StatusServiceUnavailable
	}, "answering 503")
	resp.Body.Close()
}

// TestNoHTTP: without Options.HTTP a plain request is refused as before.
func TestNoHTTP(t *testing.T) {
	_, url := startServer(t, router.Options{})
	resp, err := http.Get("http" + strings.TrimPrefix(url, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
}

// TestHTTPOverTLS: with TLS configured, HTTP requests are served over it.
func TestHTTPOverTLS(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") })
	_, url := startTLSServer(t, router.Options{HTTP: h})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: testCert().pool, MinVersion: tls.VersionTLS12}}}
	resp, err := client.Get("https" + strings.TrimPrefix(url, "wss"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "secure" {
		t.Fatalf("got %q", b)
	}
}
