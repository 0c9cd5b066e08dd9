package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"time"
)

//go:embed tagwamp.js demo/index.html demo/demo.css demo/demo.js demo/favicon.svg
var files embed.FS

// asset is one file Handler serves.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets maps each served path to its file; every other path is a 404.
var assets = map[string]*asset{
	"/":            load("demo/index.html", "text/html; charset=utf-8"),
	"/tagwamp.js":  load("tagwamp.js", "text/javascript; charset=utf-8"),
	"/demo.js":     load("demo/demo.js", "text/javascript; charset=utf-8"),
	"/demo.css":    load("demo/demo.css", "text/css; charset=utf-8"),
	"/favicon.ico": load("demo/favicon.svg", "image/svg+xml"),
}

func load(name, contentType string) *asset {
	b, err := files.ReadFile(name)
	if err != nil {
		panic("web: " + err.Error()) // the embed directive lists every name
	}
	sum := sha256.Sum256(b)
	return &asset{body: b, contentType: contentType,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

// csp is the page's Content-Security-Policy: its own files only, and
// WebSocket connections (to the server that served it, or the one named
// in the page's ?ws= parameter).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the demo page: / (the page), /tagwamp.js, /demo.js,
// /demo.css and /favicon.ico, to GET and HEAD; any other path is 404 and
// any other method 405. Each answer carries its Content-Type, an ETag (a
// digest of the file) and Cache-Control: no-cache, so that browsers
// revalidate (304 Not Modified) and never run a stale client after an
// upgrade.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.URL.Path == "/" {
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
	}
	// ServeContent answers If-None-Match (304), Range and HEAD.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
