package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// Backend is what the API acts on; *router.Server implements it (see its
// methods for the contracts).
type Backend interface {
	PublishWith(p router.BackendPublication) (int, error)
	PublishBatch(ps []router.BackendPublication) ([]int, error)
	ClusterPresence(ctx context.Context, topic string, tags json.RawMessage, maxIDs int) (router.PresenceResult, error)
	CallAsBackend(ctx context.Context, procedure string, args []json.RawMessage) (json.RawMessage, *protocol.Error)
	Disconnect(sessionID, reason string) bool
	Stats() router.Stats
}

// Endpoint names what a Key may use.
type Endpoint string

// The endpoints a Key may be granted; EndpointAll grants every one.
const (
	EndpointPublish    Endpoint = "publish"    // POST /api/publish
	EndpointBatch      Endpoint = "batch"      // POST /api/batch
	EndpointCall       Endpoint = "call"       // POST /api/call
	EndpointPresence   Endpoint = "presence"   // POST /api/presence
	EndpointDisconnect Endpoint = "disconnect" // POST /api/disconnect
	EndpointInfo       Endpoint = "info"       // GET /api/info
	EndpointAll        Endpoint = "*"
)

// Key is an API key and what it may do.
type Key struct {
	// Name identifies the key in logs; it is not secret.
	Name string
	// Key is the secret a request presents, at least auth.MinSecretLen
	// bytes (openssl rand -base64 24). It prints as "[redacted]".
	Key auth.Secret
	// Endpoints the key may use; EndpointAll for every one. Required.
	Endpoints []Endpoint
}

// Config configures the handler. Server is required; the other fields work
// at their zero value.
type Config struct {
	// Server is the router the API acts on.
	Server Backend
	// Keys authorize requests. Default none: the handler is open (see the
	// package doc, "Authentication", for where it may then be mounted).
	Keys []Key
	// MaxBody bounds a request body, in bytes; past it the answer is 413.
	// Default 1 MiB.
	MaxBody int
	// MaxBatch bounds the publications of one /api/batch; past it, 413.
	// Default 1000.
	MaxBatch int
	// MaxPresenceIDs bounds the session ids /api/presence lists (the count
	// is exact whatever it is). Default 100; a request's "limit" may only
	// lower it.
	MaxPresenceIDs int
	// Ready reports whether the server takes work: nil when it does, else
	// why not (router.Server.Ready: listening and not shutting down). While
	// it reports an error, /readyz and the /api/ endpoints that act answer
	// 503. Default nil: always ready.
	Ready func() error
	// Rate limits the requests of one client address (an IPv6 client by
	// its /64): a token bucket of Burst requests refilled at PerSecond;
	// past it the answer is 429 with Retry-After. /healthz and /readyz are
	// not limited. Default 1000 per second, burst 2000; a negative
	// PerSecond turns it off. Behind a reverse proxy every client has the
	// proxy's address: raise it, or turn it off and limit at the proxy.
	Rate router.RateLimit
	// Logger receives refusals (never a key) and failures. Default:
	// discarded.
	Logger *slog.Logger
}

// Defaults of Config.
const (
	defaultMaxBody        = 1 << 20
	defaultMaxBatch       = 1000
	defaultMaxPresenceIDs = 100
)

// defaultRate is Config.Rate's default.
var defaultRate = router.RateLimit{PerSecond: 1000, Burst: 2000}

// handler is the http.Handler New returns.
type handler struct {
	srv         Backend
	keys        []apiKey
	maxBody     int64
	maxBatch    int
	maxPresence int
	ready       func() error
	limit       *limiter // nil: no rate limit
	log         *slog.Logger
	started     time.Time
}

// apiKey is a configured Key as requests are checked against it.
type apiKey struct {
	name   string
	digest [sha256.Size]byte
	all    bool
	grants []Endpoint
}

// New returns the API handler, or an error for a Config it cannot serve:
// no Server, a key shorter than auth.MinSecretLen, two keys alike, a key
// without endpoints or with an unknown one.
func New(c Config) (http.Handler, error) {
	if c.Server == nil {
		return nil, fmt.Errorf("httpapi: no Server")
	}
	h := &handler{
		srv:         c.Server,
		maxBody:     int64(orDefault(c.MaxBody, defaultMaxBody)),
		maxBatch:    orDefault(c.MaxBatch, defaultMaxBatch),
		maxPresence: orDefault(c.MaxPresenceIDs, defaultMaxPresenceIDs),
		ready:       c.Ready,
		log:         c.Logger,
		started:     time.Now(),
	}
	if r := c.Rate.Resolve(defaultRate); r.PerSecond > 0 {
		h.limit = newLimiter(r.PerSecond, r.Burst)
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for i, k := range c.Keys {
		if len(k.Key.Reveal()) < auth.MinSecretLen {
			return nil, fmt.Errorf("httpapi: key %d (%q) is shorter than %d bytes", i, k.Name, auth.MinSecretLen)
		}
		if len(k.Endpoints) == 0 {
			return nil, fmt.Errorf("httpapi: key %d (%q) grants no endpoint", i, k.Name)
		}
		ak := apiKey{name: k.Name, digest: sha256.Sum256([]byte(k.Key.Reveal()))}
		for _, e := range k.Endpoints {
			switch {
			case e == EndpointAll:
				ak.all = true
			case slices.ContainsFunc(routes, func(r route) bool { return r.endpoint == e }):
				ak.grants = append(ak.grants, e)
			default:
				return nil, fmt.Errorf("httpapi: key %d (%q): unknown endpoint %q", i, k.Name, e)
			}
		}
		for _, o := range h.keys {
			if o.digest == ak.digest {
				return nil, fmt.Errorf("httpapi: key %d (%q) is the same as key %q", i, k.Name, o.name)
			}
		}
		h.keys = append(h.keys, ak)
	}
	return h, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// route is one endpoint: its path, method, what a key must grant ("" for
// the probes, which need none), whether it acts (and so needs Ready), and
// its function.
type route struct {
	path     string
	method   string
	endpoint Endpoint
	acts     bool
	serve    func(h *handler, w http.ResponseWriter, r *http.Request)
}

// routes are the endpoints served; openapi.yaml describes the same ones
// (TestOpenAPIMatchesRoutes).
var routes = []route{
	{"/api/publish", http.MethodPost, EndpointPublish, true, (*handler).publish},
	{"/api/batch", http.MethodPost, EndpointBatch, true, (*handler).batch},
	{"/api/call", http.MethodPost, EndpointCall, true, (*handler).call},
	{"/api/presence", http.MethodPost, EndpointPresence, true, (*handler).presence},
	{"/api/disconnect", http.MethodPost, EndpointDisconnect, true, (*handler).disconnect},
	{"/api/info", http.MethodGet, EndpointInfo, false, (*handler).info},
	{"/healthz", http.MethodGet, "", false, (*handler).healthz},
	{"/readyz", http.MethodGet, "", false, (*handler).readyz},
}

// ServeHTTP routes r, then checks, in order: the method, the key, the
// readiness, the Content-Type; the endpoint checks the body.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := slices.IndexFunc(routes, func(rt route) bool { return rt.path == r.URL.Path })
	if i < 0 {
		writeError(w, http.StatusNotFound, codeNotFound, "no such endpoint")
		return
	}
	rt := &routes[i]
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		writeError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, rt.path+" takes "+rt.method)
		return
	}
	if rt.endpoint != "" && h.limit != nil {
		if ok, wait := h.limit.allow(r.RemoteAddr, time.Now()); !ok {
			w.Header().Set("Retry-After", retryAfter(wait))
			writeError(w, http.StatusTooManyRequests, codeTooManyRequests, "too many requests from your address; retry later")
			return
		}
	}
	if rt.endpoint != "" && !h.authorize(w, r, rt.endpoint) {
		return
	}
	if rt.acts && h.ready != nil {
		if err := h.ready(); err != nil {
			writeError(w, http.StatusServiceUnavailable, codeNotReady, "not ready: "+err.Error())
			return
		}
	}
	if rt.method == http.MethodPost {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "the body must be application/json")
			return
		}
	}
	rt.serve(h, w, r)
}

// authorize checks the request's key for ep and answers 401 or 403 when it
// does not grant it. With no keys configured everything is granted.
func (h *handler) authorize(w http.ResponseWriter, r *http.Request, ep Endpoint) bool {
	if len(h.keys) == 0 {
		return true
	}
	presented, ok := keyOf(r.Header.Get("Authorization"))
	if !ok {
		h.unauthorized(w, r, "missing API key: send Authorization: Bearer <key>")
		return false
	}
	k := h.lookup(presented)
	if k == nil {
		h.unauthorized(w, r, "invalid API key")
		return false
	}
	if !k.all && !slices.Contains(k.grants, ep) {
		h.log.Info("httpapi: endpoint not granted", "key", k.name, "endpoint", string(ep), "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, codeForbidden, "this key does not grant "+string(ep))
		return false
	}
	return true
}

func (h *handler) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	h.log.Info("httpapi: request refused", "reason", msg, "remote", r.RemoteAddr, "path", r.URL.Path)
	w.Header().Set("WWW-Authenticate", `Bearer realm="tagwamp"`)
	writeError(w, http.StatusUnauthorized, codeUnauthorized, msg)
}

// keyOf returns the key of an Authorization header "Bearer <key>" or
// "apikey <key>" (schemes case-insensitive).
func keyOf(header string) (string, bool) {
	scheme, key, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "apikey") {
		return "", false
	}
	key = strings.TrimSpace(key)
	return key, key != ""
}

// lookup returns the configured key whose digest is the presented key's,
// or nil. It compares with every key, in constant time each, whatever
// matches: the time depends only on how many keys are configured.
func (h *handler) lookup(presented string) *apiKey {
	d := sha256.Sum256([]byte(presented))
	var found *apiKey
	for i := range h.keys {
		if subtle.ConstantTimeCompare(d[:], h.keys[i].digest[:]) == 1 {
			found = &h.keys[i]
		}
	}
	return found
}
