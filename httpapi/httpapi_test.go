package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/httpapi"
	"github.com/tagwamp/tagwamp/internal/leakcheck"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// TestMain fails the run if router or httpapi goroutines outlive the
// tests; the router's idle pool workers exit on their own timer.
func TestMain(m *testing.M) {
	leakcheck.Main(m, leakcheck.Options{Wait: 15 * time.Second, Leaked: func(g string) bool {
		return (strings.Contains(g, "tagwamp/router.") || strings.Contains(g, "tagwamp/httpapi.")) &&
			!strings.Contains(g, "router.(*pool).run")
	}})
}

const (
	pubKey = "publish-only-key-0123456789"
	allKey = "every-endpoint-key-0123456789"
)

// newRouter returns a router that is not listening (the handler tests
// need no socket), with procedures for /api/call; it is shut down with
// the test.
func newRouter(t *testing.T, o router.Options) *router.Server {
	t.Helper()
	if o.RPC == nil {
		o.RPC = router.RPCHandlerFunc(func(_ context.Context, s *router.Session, c *router.Call) (any, error) {
			switch c.URI {
			case "echo":
				return c.Args, nil
			case "whoami":
				return s.ID(), nil
			case "fail":
				return nil, &protocol.Error{URI: "http://x.com/error#bad", Desc: "bad", Details: []int{1, 2}}
			}
			return nil, router.ErrNoSuchProcedure
		})
	}
	srv := router.New(o)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv
}

// apiResult is what one request got.
type apiResult struct {
	status int
	header http.Header
	body   string
}

// do serves one request on h.
func do(h http.Handler, method, path, key, ctype, body string) apiResult {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		r.Header.Set("Authorization", key)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return apiResult{w.Code, w.Header(), w.Body.String()}
}

// errorCode returns the code of an error body, or "".
func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	return e.Error.Code
}

func TestHandler(t *testing.T) {
	srv := newRouter(t, router.Options{MaxTagsPerTopic: 2, MaxPublishIDs: 2})
	var notReady atomic.Pointer[error]
	h, err := httpapi.New(httpapi.Config{
		Server: srv,
		Keys: []httpapi.Key{
			{Name: "pub", Key: pubKey, Endpoints: []httpapi.Endpoint{httpapi.EndpointPublish}},
			{Name: "all", Key: allKey, Endpoints: []httpapi.Endpoint{httpapi.EndpointAll}},
		},
		MaxBody:  256,
		MaxBatch: 3,
		Ready: func() error {
			if e := notReady.Load(); e != nil {
				return *e
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	const (
		bearer = "Bearer " + allKey
		json_  = "application/json"
		pub    = `{"topic":"http://x.com/t","event":1}`
	)
	tests := []struct {
		name         string
		method, path string
		key, ctype   string
		body         string
		status       int
		code         string // error code, or "" for success
		want         string // the exact body of a success, or ""
	}{
		// Routing.
		{name: "unknown path", method: "GET", path: "/api/nope", status: 404, code: "not_found"},
		{name: "root", method: "GET", path: "/", status: 404, code: "not_found"},
		{name: "GET publish", method: "GET", path: "/api/publish", key: bearer, status: 405, code: "method_not_allowed"},
		{name: "POST info", method: "POST", path: "/api/info", key: bearer, ctype: json_, status: 405, code: "method_not_allowed"},
		{name: "PUT healthz", method: "PUT", path: "/healthz", status: 405, code: "method_not_allowed"},

		// Keys.
		{name: "no key", method: "POST", path: "/api/publish", ctype: json_, body: pub, status: 401, code: "unauthorized"},
		{name: "basic auth", method: "POST", path: "/api/publish", key: "Basic " + allKey, ctype: json_, body: pub, status: 401, code: "unauthorized"},
		{name: "bearer without key", method: "POST", path: "/api/publish", key: "Bearer ", ctype: json_, body: pub, status: 401, code: "unauthorized"},
		{name: "unknown key", method: "POST", path: "/api/publish", key: "Bearer not-a-configured-key-000", ctype: json_, body: pub, status: 401, code: "unauthorized"},
		{name: "key prefix", method: "POST", path: "/api/publish", key: "Bearer " + allKey[:20], ctype: json_, body: pub, status: 401, code: "unauthorized"},
		{name: "key not granting", method: "POST", path: "/api/call", key: "Bearer " + pubKey, ctype: json_, body: `{"procedure":"echo"}`, status: 403, code: "forbidden"},
		{name: "key not granting info", method: "GET", path: "/api/info", key: "Bearer " + pubKey, status: 403, code: "forbidden"},
		{name: "granted", method: "POST", path: "/api/publish", key: "Bearer " + pubKey, ctype: json_, body: pub, status: 200, want: `{"receivers":0}`},
		{name: "apikey scheme", method: "POST", path: "/api/publish", key: "apikey " + pubKey, ctype: json_, body: pub, status: 200},
		{name: "scheme case", method: "POST", path: "/api/publish", key: "BEARER " + pubKey, ctype: json_, body: pub, status: 200},
		{name: "probes need no key", method: "GET", path: "/healthz", status: 200, want: `{"status":"ok"}`},
		{name: "readyz", method: "GET", path: "/readyz", status: 200, want: `{"status":"ready"}`},

		// Content-Type.
		{name: "no content type", method: "POST", path: "/api/publish", key: bearer, body: pub, status: 415, code: "unsupported_media_type"},
		{name: "text/plain", method: "POST", path: "/api/publish", key: bearer, ctype: "text/plain", body: pub, status: 415, code: "unsupported_media_type"},
		{name: "form", method: "POST", path: "/api/publish", key: bearer, ctype: "application/x-www-form-urlencoded", body: pub, status: 415, code: "unsupported_media_type"},
		{name: "charset", method: "POST", path: "/api/publish", key: bearer, ctype: "application/json; charset=utf-8", body: pub, status: 200},

		// Bodies.
		{name: "not JSON", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `topic=x`, status: 400, code: "bad_json"},
		{name: "cut JSON", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"x"`, status: 400, code: "bad_json"},
		{name: "empty body", method: "POST", path: "/api/publish", key: bearer, ctype: json_, status: 400, code: "bad_json"},
		{name: "trailing value", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: pub + pub, status: 400, code: "bad_json"},
		{name: "trailing garbage", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: pub + " x", status: 400, code: "bad_json"},
		{name: "trailing space", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: pub + " \n", status: 200},
		{name: "unknown field", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t","event":1,"excludeMe":true}`, status: 400, code: "bad_request"},
		{name: "wrong type", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":5,"event":1}`, status: 400, code: "bad_request"},
		{name: "not an object", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `[1]`, status: 400, code: "bad_request"},
		{name: "exclude not strings", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t","event":1,"exclude":[1]}`, status: 400, code: "bad_request"},
		{name: "too big", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t","event":"` + strings.Repeat("x", 300) + `"}`, status: 413, code: "body_too_large"},

		// Publications.
		{name: "topic and tags", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t","tags":{},"event":1}`, status: 400, code: "bad_request"},
		{name: "topic with message", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t","message":1}`, status: 400, code: "bad_request"},
		{name: "tags with event", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"tags":{},"event":1}`, status: 400, code: "bad_request"},
		{name: "no event", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t"}`, status: 400, code: "bad_request"},
		{name: "no message", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"tags":{"a":1}}`, status: 400, code: "bad_request"},
		{name: "neither", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"event":1}`, status: 400, code: "bad_request"},
		{name: "null event", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t","event":null}`, status: 200},
		{name: "tag form", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"tags":{"lang":"FR","user":42},"message":{"text":"hi"}}`, status: 200, want: `{"receivers":0}`},
		{name: "malformed topic", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t?a","event":1}`, status: 400, code: "bad_publication"},
		{name: "tags not an object", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"tags":[1],"message":1}`, status: 400, code: "bad_publication"},
		{name: "tag value a list", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"tags":{"a":[1]},"message":1}`, status: 400, code: "bad_publication"},
		{name: "null tags", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"tags":null,"message":1}`, status: 400, code: "bad_publication"},
		{name: "too many tags", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t?a=1&b=2&c=3","event":1}`, status: 422, code: "over_limit"},
		{name: "too many ids", method: "POST", path: "/api/publish", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t","event":1,"eligible":["a","b","c"]}`, status: 422, code: "over_limit"},

		// Batches.
		{name: "batch", method: "POST", path: "/api/batch", key: bearer, ctype: json_, body: `[` + pub + `,{"tags":{},"message":2}]`, status: 200, want: `{"results":[{"receivers":0},{"receivers":0}]}`},
		{name: "empty batch", method: "POST", path: "/api/batch", key: bearer, ctype: json_, body: `[]`, status: 200, want: `{"results":[]}`},
		{name: "batch not a list", method: "POST", path: "/api/batch", key: bearer, ctype: json_, body: pub, status: 400, code: "bad_request"},
		{name: "batch too long", method: "POST", path: "/api/batch", key: bearer, ctype: json_, body: `[` + pub + `,` + pub + `,` + pub + `,` + pub + `]`, status: 413, code: "batch_too_large"},
		{name: "batch bad form", method: "POST", path: "/api/batch", key: bearer, ctype: json_, body: `[` + pub + `,{"event":1}]`, status: 400, code: "bad_request"},
		{name: "batch bad topic", method: "POST", path: "/api/batch", key: bearer, ctype: json_, body: `[` + pub + `,{"topic":"?a","event":1}]`, status: 400, code: "bad_publication"},
		{name: "batch over limit", method: "POST", path: "/api/batch", key: bearer, ctype: json_, body: `[` + pub + `,{"tags":{"a":1,"b":2,"c":3},"message":1}]`, status: 422, code: "over_limit"},

		// Calls.
		{name: "call", method: "POST", path: "/api/call", key: bearer, ctype: json_, body: `{"procedure":"echo","args":[1,{"a":"b"}]}`, status: 200, want: `{"result":[1,{"a":"b"}]}`},
		{name: "call no args", method: "POST", path: "/api/call", key: bearer, ctype: json_, body: `{"procedure":"whoami"}`, status: 200, want: `{"result":"backend"}`},
		{name: "call error", method: "POST", path: "/api/call", key: bearer, ctype: json_, body: `{"procedure":"fail"}`, status: 200, want: `{"error":{"uri":"http://x.com/error#bad","desc":"bad","details":[1,2]}}`},
		{name: "no such procedure", method: "POST", path: "/api/call", key: bearer, ctype: json_, body: `{"procedure":"nope"}`, status: 200,
			want: `{"error":{"uri":"http://api.wamp.ws/error#NoSuchRPCEndpoint","desc":"no procedure registered for nope"}}`},
		{name: "call no procedure", method: "POST", path: "/api/call", key: bearer, ctype: json_, body: `{"args":[]}`, status: 400, code: "bad_request"},
		{name: "call args not a list", method: "POST", path: "/api/call", key: bearer, ctype: json_, body: `{"procedure":"echo","args":1}`, status: 400, code: "bad_request"},

		// Presence.
		{name: "presence", method: "POST", path: "/api/presence", key: bearer, ctype: json_, body: `{"tags":{"lang":"FR"}}`, status: 200, want: `{"sessions":0,"ids":[],"nodes":1,"partial":false}`},
		{name: "presence topic", method: "POST", path: "/api/presence", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t","limit":5}`, status: 200, want: `{"sessions":0,"ids":[],"nodes":1,"partial":false}`},
		{name: "presence negative limit", method: "POST", path: "/api/presence", key: bearer, ctype: json_, body: `{"topic":"http://x.com/t","limit":-1}`, status: 400, code: "bad_request"},
		{name: "presence neither", method: "POST", path: "/api/presence", key: bearer, ctype: json_, body: `{}`, status: 400, code: "bad_publication"},
		{name: "presence over limit", method: "POST", path: "/api/presence", key: bearer, ctype: json_, body: `{"tags":{"a":1,"b":2,"c":3}}`, status: 422, code: "over_limit"},

		// Disconnect.
		{name: "disconnect unknown", method: "POST", path: "/api/disconnect", key: bearer, ctype: json_, body: `{"session":"nobody"}`, status: 404, code: "no_such_session"},
		{name: "disconnect no session", method: "POST", path: "/api/disconnect", key: bearer, ctype: json_, body: `{"reason":"x"}`, status: 400, code: "bad_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(h, tc.method, tc.path, tc.key, tc.ctype, tc.body)
			if got.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", got.status, tc.status, got.body)
			}
			if ct := got.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.code != "" {
				if c := errorCode(t, got.body); c != tc.code {
					t.Errorf("code %q, want %q; body %s", c, tc.code, got.body)
				}
			} else if tc.want != "" && strings.TrimSpace(got.body) != tc.want {
				t.Errorf("body %s, want %s", got.body, tc.want)
			}
			switch got.status {
			case 401:
				if got.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			case 405:
				if a := got.header.Get("Allow"); a != "GET" && a != "POST" {
					t.Errorf("405 with Allow %q", a)
				}
			}
		})
	}

	t.Run("not ready", func(t *testing.T) {
		e := errors.New("shutting down")
		notReady.Store(&e)
		defer notReady.Store(nil)
		for _, c := range []struct {
			method, path, body string
			status             int
		}{
			{"GET", "/readyz", "", 503},
			{"POST", "/api/publish", pub, 503},
			{"POST", "/api/call", `{"procedure":"echo"}`, 503},
			{"GET", "/healthz", "", 200},
			{"GET", "/api/info", "", 200},
		} {
			got := do(h, c.method, c.path, bearer, json_, c.body)
			if got.status != c.status {
				t.Errorf("%s %s: status %d, want %d", c.method, c.path, got.status, c.status)
			}
			if c.status == 503 && errorCode(t, got.body) != "not_ready" {
				t.Errorf("%s %s: body %s", c.method, c.path, got.body)
			}
		}
	})

	t.Run("info", func(t *testing.T) {
		got := do(h, "GET", "/api/info", bearer, "", "")
		var in struct {
			Version       string             `json:"version"`
			UptimeSeconds float64            `json:"uptime_seconds"`
			Sessions      *int64             `json:"sessions"`
			Subscriptions *int64             `json:"subscriptions"`
			Refused       map[string]*uint64 `json:"refused"`
		}
		if err := json.Unmarshal([]byte(got.body), &in); err != nil {
			t.Fatal(err)
		}
		if in.Version != router.Version || in.UptimeSeconds <= 0 || in.Sessions == nil || in.Subscriptions == nil {
			t.Errorf("info %s", got.body)
		}
		if n := in.Refused["topics_over_tag_limit"]; n == nil || len(in.Refused) < 10 {
			t.Errorf("refusals %s", got.body)
		}
	})
}

// TestOpen checks that a handler without keys serves every endpoint
// without an Authorization header.
func TestOpen(t *testing.T) {
	h, err := httpapi.New(httpapi.Config{Server: newRouter(t, router.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/publish", `{"tags":{},"message":1}`},
		{"POST", "/api/call", `{"procedure":"echo"}`},
		{"GET", "/api/info", ""},
	} {
		if got := do(h, c.method, c.path, "", "application/json", c.body); got.status != 200 {
			t.Errorf("%s %s: %d %s", c.method, c.path, got.status, got.body)
		}
	}
}

// TestDefaultMaxBody checks the default body limit of 1 MiB.
func TestDefaultMaxBody(t *testing.T) {
	h, err := httpapi.New(httpapi.Config{Server: newRouter(t, router.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	event := `"` + strings.Repeat("x", 1<<20) + `"`
	got := do(h, "POST", "/api/publish", "", "application/json", `{"topic":"http://x.com/t","event":`+event+`}`)
	if got.status != 413 {
		t.Errorf("status %d for a body over 1 MiB", got.status)
	}
	event = `"` + strings.Repeat("x", 1<<19) + `"`
	got = do(h, "POST", "/api/publish", "", "application/json", `{"topic":"http://x.com/t","event":`+event+`}`)
	if got.status != 200 {
		t.Errorf("status %d for a body of 512 KiB", got.status)
	}
}

func TestNewRefuses(t *testing.T) {
	srv := newRouter(t, router.Options{})
	all := []httpapi.Endpoint{httpapi.EndpointAll}
	tests := []struct {
		name string
		c    httpapi.Config
	}{
		{"no server", httpapi.Config{}},
		{"short key", httpapi.Config{Server: srv, Keys: []httpapi.Key{{Name: "a", Key: "short", Endpoints: all}}}},
		{"no endpoints", httpapi.Config{Server: srv, Keys: []httpapi.Key{{Name: "a", Key: allKey}}}},
		{"unknown endpoint", httpapi.Config{Server: srv, Keys: []httpapi.Key{{Name: "a", Key: allKey, Endpoints: []httpapi.Endpoint{"healthz"}}}}},
		{"same key twice", httpapi.Config{Server: srv, Keys: []httpapi.Key{{Name: "a", Key: allKey, Endpoints: all}, {Name: "b", Key: allKey, Endpoints: all}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := httpapi.New(tc.c); err == nil {
				t.Error("New accepted it")
			} else if strings.Contains(err.Error(), allKey) {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}

// TestKeysNeverLogged checks that neither a configured key nor a presented
// one reaches the logs, refused or not.
func TestKeysNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	h, err := httpapi.New(httpapi.Config{
		Server: newRouter(t, router.Options{}),
		Keys:   []httpapi.Key{{Name: "pub", Key: pubKey, Endpoints: []httpapi.Endpoint{httpapi.EndpointPublish}}},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	const wrong = "a-wrong-key-that-must-not-be-logged"
	do(h, "POST", "/api/publish", "Bearer "+wrong, "application/json", `{"tags":{},"message":1}`)
	do(h, "POST", "/api/call", "Bearer "+pubKey, "application/json", `{"procedure":"x"}`)
	do(h, "POST", "/api/publish", "Bearer "+pubKey, "application/json", `{"tags":{},"message":1}`)
	if logs.Len() == 0 {
		t.Fatal("nothing logged: the test checks nothing")
	}
	for _, k := range []string{wrong, pubKey} {
		if strings.Contains(logs.String(), k) {
			t.Errorf("a key reached the logs:\n%s", logs.String())
		}
	}
}

// TestRateLimit: past its burst a client gets 429 with Retry-After; the
// probes are not limited.
func TestRateLimit(t *testing.T) {
	srv := newRouter(t, router.Options{})
	h, err := httpapi.New(httpapi.Config{Server: srv, Rate: router.RateLimit{PerSecond: 1, Burst: 2}})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"topic": "http://x.com/t", "event": 1}`
	for i := range 2 {
		if r := do(h, "POST", "/api/publish", "", "application/json", body); r.status != 200 {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
	}
	r := do(h, "POST", "/api/publish", "", "application/json", body)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" || errorCode(t, r.body) != "too_many_requests" {
		t.Fatalf("over the rate: %d %v %s", r.status, r.header, r.body)
	}
	if r := do(h, "GET", "/healthz", "", "", ""); r.status != 200 {
		t.Fatalf("healthz over the rate: %d", r.status)
	}
}

// clusterBackend is a router whose presence answers as a cluster's would.
type clusterBackend struct {
	*router.Server
	res router.PresenceResult
	err error
}

func (b clusterBackend) ClusterPresence(context.Context, string, json.RawMessage, int) (router.PresenceResult, error) {
	return b.res, b.err
}

// TestPresenceCluster: /api/presence says how many nodes answered and
// whether the figure is partial, and answers 503 busy when the cluster's
// bound on presence requests in flight refuses one.
func TestPresenceCluster(t *testing.T) {
	srv := newRouter(t, router.Options{})
	for _, tc := range []struct {
		name   string
		b      clusterBackend
		status int
		want   string
	}{
		{"complete", clusterBackend{res: router.PresenceResult{Sessions: 7, IDs: []string{"a", "b"}, Nodes: 3}}, 200,
			`{"sessions":7,"ids":["a","b"],"nodes":3,"partial":false}`},
		{"partial", clusterBackend{res: router.PresenceResult{Sessions: 1, Nodes: 1, Partial: true}}, 200,
			`{"sessions":1,"ids":[],"nodes":1,"partial":true}`},
		{"busy", clusterBackend{err: errors.New("cluster: too many presence requests in flight")}, 503, "busy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.b.Server = srv
			h, err := httpapi.New(httpapi.Config{Server: tc.b})
			if err != nil {
				t.Fatal(err)
			}
			got := do(h, "POST", "/api/presence", "", "application/json", `{"tags":{"a":1}}`)
			if got.status != tc.status {
				t.Fatalf("status %d, want %d: %s", got.status, tc.status, got.body)
			}
			if tc.status == 200 && strings.TrimSpace(got.body) != tc.want {
				t.Errorf("body %s, want %s", got.body, tc.want)
			}
			if tc.status == 503 && (errorCode(t, got.body) != tc.want || got.header.Get("Retry-After") != "1") {
				t.Errorf("body %s, Retry-After %q", got.body, got.header.Get("Retry-After"))
			}
		})
	}
}
