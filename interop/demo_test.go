package interop_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/httpapi"
	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/web"
)

// chromiumPath is Debian's chromium, which Playwright drives (it never
// downloads a browser of its own).
const chromiumPath = "/usr/bin/chromium"

// TestDemo drives the demo page (package web) in real Chromium with
// Playwright (demo_test.mjs), against a server built as cmd/tagwamp
// builds it on loopback: the built-in procedures, the HTTP API and the
// page on one port. The page subscribes through its form, receives what a
// Go client and POST /api/publish publish and not what it does not match,
// publishes with exclude and eligible, calls a procedure, and reconnects
// after this test restarts the server on the same port. A screenshot goes
// to $TAGWAMP_ARTIFACTS (else a temporary directory), logged.
func TestDemo(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node is not installed", "apt-get install nodejs npm && npm ci --prefix interop")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core")); err != nil {
		missing(t, "playwright-core is not installed", "npm ci --prefix interop")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing(t, chromiumPath+" is not installed", "apt-get install chromium")
	}
	artifacts := os.Getenv("TAGWAMP_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	ds := startDemoServer(t)
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		switch r.URL.Path {
		case "/go-publish":
			var p struct {
				Topic string          `json:"topic"`
				Event json.RawMessage `json:"event"`
			}
			if err = json.NewDecoder(r.Body).Decode(&p); err == nil {
				err = goPublish(r.Context(), ds.url(), p.Topic, p.Event)
			}
		case "/restart":
			err = ds.restart()
		default:
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer control.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	shot := filepath.Join(artifacts, "demo.png")
	// Chromium's crashpad handlers daemonize out of its process group; with
	// their database (XDG_CONFIG_HOME) and the profile (TMPDIR) under this
	// directory, every process of the browser names it and is ended by it
	// too, before t.TempDir's cleanup removes it.
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, "demo_test.mjs")
	cmd.Env = append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"TAGWAMP_PAGE_URL=http://"+ds.addr+"/",
		"TAGWAMP_CONTROL_URL="+control.URL,
		"TAGWAMP_CHROMIUM="+chromiumPath,
		"TAGWAMP_SCREENSHOT="+shot,
		"TAGWAMP_SCREENSHOT_PHONE="+filepath.Join(artifacts, "demo-phone.png"),
		// Playwright's temporary profile (--user-data-dir) lands here.
		"TMPDIR="+filepath.Join(home, "tmp"))
	// node in a process group of its own, ended as a whole; Chromium, which
	// Playwright starts in a group of its own (detached), is ended by
	// browser.close(), and here too by the pid the script reports.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu         sync.Mutex
		browserPid int
		out        []string
	)
	defer func() {
		endGroup(t, cmd)
		mu.Lock()
		pid := browserPid
		mu.Unlock()
		if pid > 0 {
			endPgid(t, pid)
		}
		endByArg(t, home)
	}()
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			mu.Lock()
			if p, ok := strings.CutPrefix(l, "browser-pid "); ok {
				browserPid, _ = strconv.Atoi(p)
			}
			out = append(out, l)
			mu.Unlock()
		}
	}()
	<-lines
	werr := cmd.Wait()
	mu.Lock()
	log := strings.Join(out, "\n")
	mu.Unlock()
	if werr != nil || len(out) == 0 {
		t.Fatalf("demo_test.mjs: %v\nstdout:\n%s\nstderr:\n%s", werr, log, stderr.String())
	}
	var res struct {
		OK            bool     `json:"ok"`
		ConsoleErrors []string `json:"consoleErrors"`
		Received      []string `json:"received"`
		Sessions      []string `json:"sessions"`
		Call          string   `json:"call"`
		Reconnects    string   `json:"reconnects"`
	}
	if err := json.Unmarshal([]byte(out[len(out)-1]), &res); err != nil || !res.OK {
		t.Fatalf("demo_test.mjs reported no success (%v)\nstdout:\n%s\nstderr:\n%s", err, log, stderr.String())
	}
	if len(res.ConsoleErrors) > 0 {
		t.Errorf("console errors: %q", res.ConsoleErrors)
	}
	want := []string{"go", "api", "page-eligible", "go-after-restart"}
	if strings.Join(res.Received, ",") != strings.Join(want, ",") {
		t.Errorf("the subscription received %q, want %q", res.Received, want)
	}
	if len(res.Sessions) != 2 || res.Sessions[0] == res.Sessions[1] || res.Reconnects != "1" {
		t.Errorf("sessions %q (one per connection), reconnects %q", res.Sessions, res.Reconnects)
	}
	if !strings.Contains(res.Call, `"server": "tagwamp/`+router.Version+`"`) {
		t.Errorf("call result %q", res.Call)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Errorf("screenshot: %v", err)
	}
	t.Logf("screenshots in %s", artifacts)
}

// goPublish publishes event to topic from a Go client session, and waits
// until the server has handled it: the session's messages are handled in
// order, so once a later call is answered the publication is out.
func goPublish(ctx context.Context, url, topic string, event json.RawMessage) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Publish(topic, event); err != nil {
		return err
	}
	var pong any
	return c.Call(ctx, handlers.ProcPing, &pong)
}

// demoServer is the server cmd/tagwamp runs on loopback by default, which
// the test can restart on the same port.
type demoServer struct {
	addr string
	mu   sync.Mutex
	srv  *router.Server
	done chan error
}

func startDemoServer(t *testing.T) *demoServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ds := &demoServer{addr: ln.Addr().String()}
	if err := ds.serve(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ds.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ds
}

func (ds *demoServer) url() string { return "ws://" + ds.addr + "/" }

// serve serves a new server on ln: the built-in procedures, and an HTTP
// handler as cmd/tagwamp's (the HTTP API on /api/, /healthz and /readyz,
// the demo page on every other path).
func (ds *demoServer) serve(ln net.Listener) error {
	mux := new(handlers.Mux)
	httpMux := http.NewServeMux()
	srv := router.New(router.Options{RPC: mux, HTTP: httpMux})
	handlers.RegisterBuiltins(mux, srv)
	api, err := httpapi.New(httpapi.Config{Server: srv, Ready: srv.Ready})
	if err != nil {
		ln.Close()
		return err
	}
	for _, p := range []string{"/api/", "/healthz", "/readyz"} {
		httpMux.Handle(p, api)
	}
	httpMux.Handle("/", web.Handler())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	ds.mu.Lock()
	ds.srv, ds.done = srv, done
	ds.mu.Unlock()
	return nil
}

// stop shuts the server down (its sessions get 1001) and waits for it.
func (ds *demoServer) stop() error {
	ds.mu.Lock()
	srv, done := ds.srv, ds.done
	ds.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	if err := <-done; !errors.Is(err, router.ErrServerClosed) {
		return err
	}
	return nil
}

// restart stops the server and serves a new one on the same address.
func (ds *demoServer) restart() error {
	if err := ds.stop(); err != nil {
		return err
	}
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ { // the port is free once the old listener is closed
		if ln, err = net.Listen("tcp", ds.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	return ds.serve(ln)
}

// endPgid kills process group pgid and waits until no live process of it
// is left.
func endPgid(t *testing.T, pgid int) {
	syscall.Kill(-pgid, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for liveInGroup(pgid) {
		if time.Now().After(deadline) {
			t.Errorf("process group %d is still running 10s after SIGKILL", pgid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// endByArg kills every process whose command line holds s and waits until
// none is left alive.
func endByArg(t *testing.T, s string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := withArg(s)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes %v (command line holding %s) still run 10s after SIGKILL", pids, s)
			return
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// withArg lists the live processes (not zombies) whose command line holds s.
func withArg(s string) []int {
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil || !strings.Contains(string(cmdline), s) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + d.Name() + "/stat"); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}
