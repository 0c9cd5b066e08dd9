package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
)

// TestRunServesThePage: the zero-config server on loopback serves the demo
// page and the HTTP API on its port, and logs the page's URL.
func TestRunServesThePage(t *testing.T) {
	r := startRun(t)
	base := "http://" + r.addr.String()
	for path, want := range map[string]struct {
		status int
		ctype  string
	}{
		"/":            {200, "text/html; charset=utf-8"},
		"/tagwamp.js":  {200, "text/javascript; charset=utf-8"},
		"/favicon.ico": {200, "image/svg+xml"},
		"/nope":        {404, "text/plain; charset=utf-8"},
		"/healthz":     {200, "application/json"},
		"/api/info":    {200, "application/json"},
		"/api/nope":    {404, "application/json"},
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), want.ctype) {
			t.Errorf("GET %s: %d %q, want %d %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), want.status, want.ctype)
		}
	}
	if !strings.Contains(r.logs.String(), " page="+base+"/") {
		t.Errorf("the startup log lacks page=%s/:\n%s", base, r.logs)
	}
}

// TestWebUIServed: web_ui absent is on for loopback only; true and false
// decide alone.
func TestWebUIServed(t *testing.T) {
	on, off := true, false
	for _, tc := range []struct {
		addr  string
		webUI *bool
		want  bool
	}{
		{"127.0.0.1:8080", nil, true},
		{"localhost:8080", nil, true},
		{"[::1]:8080", nil, true},
		{":8080", nil, false},
		{"192.0.2.1:8080", nil, false},
		{":8080", &on, true},
		{"127.0.0.1:8080", &off, false},
	} {
		cfg := config.Default()
		cfg.Addr, cfg.WebUI = tc.addr, tc.webUI
		var logs strings.Builder
		if got := webUIServed(cfg, newTestLogger(&logs)); got != tc.want {
			t.Errorf("%s web_ui=%v: served %v, want %v", tc.addr, tc.webUI, got, tc.want)
		}
		if tc.webUI == nil && !tc.want && !strings.Contains(logs.String(), "demo page off") {
			t.Errorf("%s: no log line says the page is off: %s", tc.addr, logs.String())
		}
		if got := pageAttrs(cfg, tc.addr); (got != nil) != tc.want {
			t.Errorf("%s: pageAttrs %v", tc.addr, got)
		}
	}
	cfg := config.Default()
	cfg.Addr, cfg.WebUI = ":8080", &on
	if got := pageAttrs(cfg, "[::]:8080"); len(got) != 2 || got[1] != "http://127.0.0.1:8080/" {
		t.Errorf("pageAttrs on every interface: %v", got)
	}
}

// TestHTTPHandler: with the API off the page takes every path; with the
// page off the API does (its JSON 404 included).
func TestHTTPHandler(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-API", "1") })
	for _, tc := range []struct {
		api      http.Handler
		ui       bool
		path     string
		wantAPI  bool
		wantCode int
	}{
		{api, true, "/api/publish", true, 200},
		{api, true, "/healthz", true, 200},
		{api, true, "/readyz", true, 200},
		{api, true, "/", false, 200},
		{api, true, "/demo.css", false, 200},
		{api, false, "/", true, 200},
		{nil, true, "/api/publish", false, 404},
		{nil, true, "/", false, 200},
	} {
		req, _ := http.NewRequest("GET", "http://127.0.0.1/"+strings.TrimPrefix(tc.path, "/"), nil)
		w := httptest.NewRecorder()
		httpHandler(tc.api, tc.ui).ServeHTTP(w, req)
		if (w.Header().Get("X-API") == "1") != tc.wantAPI || w.Code != tc.wantCode {
			t.Errorf("api=%v ui=%v %s: api %v code %d", tc.api != nil, tc.ui, tc.path, w.Header().Get("X-API") == "1", w.Code)
		}
	}
}
