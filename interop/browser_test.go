package interop_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

//go:embed testdata/browser.html
var browserPage []byte

// TestBrowser loads a page in headless Chromium whose script speaks WAMP v1
// over the browser's own WebSocket, against the real server with an Origin
// allow-list naming the page's origin. It needs Debian's chromium, which
// .ci/run installs.
func TestBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		missing(t, "chromium is not installed", "apt-get install chromium")
	}
	results := make(chan []byte, 1)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(browserPage)
		case "/result":
			b, _ := io.ReadAll(r.Body)
			select {
			case results <- b:
			default:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer page.Close()

	mux := new(handlers.Mux)
	origins, err := handlers.NewOriginCheck([]string{page.URL}, true)
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(router.Options{RPC: mux, Filters: []router.HandshakeFilter{origins}})
	handlers.RegisterBuiltins(mux, srv)
	addr := serve(t, srv)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir="+t.TempDir(),
		page.URL+"/?ws=ws://"+addr+"/")
	// Chromium starts helper processes (zygote, GPU, renderers) that write
	// to the profile directory: it runs in a process group of its own, and
	// the whole group is ended and gone before t.TempDir's cleanup removes
	// the directory.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer endGroup(t, cmd)

	var raw []byte
	select {
	case raw = <-results:
	case <-ctx.Done():
		t.Fatal("the page reported nothing")
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("result %s: %v", raw, err)
	}
	want := map[string]any{
		"ok": true, "protocol": "wamp", "version": 1.0, "server": "tagwamp/" + router.Version, "distinct": true,
		"echo": []any{1.0, "é", []any{1.0, 2.0}, nil},
		"error": map[string]any{"uri": "http://api.wamp.ws/error#NoSuchRPCEndpoint",
			"desc": "no procedure registered for http://example.com/nope", "n": 4.0},
		"event": map[string]any{"topic": "http://example.com/news?lang=FR&user=42",
			"event": map[string]any{"title": "Bonjour"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("page reported\n%s", raw)
	}
}

// endGroup kills the process group of cmd, started with Setpgid, waits
// for its leader and then until no live process of the group is left (a
// zombie, already dead, may linger until it is reaped: it writes nothing).
func endGroup(t *testing.T, cmd *exec.Cmd) {
	pgid := cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGKILL)
	cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for liveInGroup(pgid) {
		if time.Now().After(deadline) {
			t.Errorf("chromium's process group %d is still running 10s after SIGKILL", pgid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// liveInGroup reports whether a process of group pgid is alive and not a
// zombie, from /proc/<pid>/stat ("pid (comm) state ppid pgrp ...").
func liveInGroup(pgid int) bool {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}
