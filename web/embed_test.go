package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, method, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	return w
}

func TestHandlerServesTheFiles(t *testing.T) {
	for path, want := range map[string]struct{ ctype, body string }{
		"/":            {"text/html; charset=utf-8", `<script type="module" src="/demo.js">`},
		"/tagwamp.js":  {"text/javascript; charset=utf-8", "export function parseTopic"},
		"/demo.js":     {"text/javascript; charset=utf-8", `from "./tagwamp.js"`},
		"/demo.css":    {"text/css; charset=utf-8", "@media"},
		"/favicon.ico": {"image/svg+xml", "<svg"},
	} {
		w := get(t, "GET", path)
		if w.Code != 200 || w.Header().Get("Content-Type") != want.ctype || !strings.Contains(w.Body.String(), want.body) {
			t.Errorf("GET %s: %d %q, body holds %q: %v", path, w.Code, w.Header().Get("Content-Type"), want.body,
				strings.Contains(w.Body.String(), want.body))
		}
		if w.Header().Get("Cache-Control") != "no-cache" || w.Header().Get("ETag") == "" ||
			w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", path, w.Header())
		}
		// A browser revalidates with the ETag and gets 304.
		if w2 := get(t, "GET", path, "If-None-Match", w.Header().Get("ETag")); w2.Code != http.StatusNotModified || w2.Body.Len() != 0 {
			t.Errorf("GET %s If-None-Match: %d %q", path, w2.Code, w2.Body)
		}
		if h := get(t, "HEAD", path); h.Code != 200 || h.Body.Len() != 0 || h.Header().Get("Content-Type") != want.ctype {
			t.Errorf("HEAD %s: %d %d bytes", path, h.Code, h.Body.Len())
		}
	}
	if csp := get(t, "GET", "/").Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("the page's CSP: %q", csp)
	}
}

func TestHandlerRefuses(t *testing.T) {
	for _, path := range []string{"/index.html", "/demo/demo.js", "/api/publish", "/tagwamp.d.ts", "/README.md", "/x/", "//demo.js"} {
		if w := get(t, "GET", path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, w.Code)
		}
	}
	w := get(t, "POST", "/")
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d Allow %q", w.Code, w.Header().Get("Allow"))
	}
}
