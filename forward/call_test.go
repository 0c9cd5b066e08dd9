package forward_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

const app = "http://example.com/app#"

// TestCall: a call under a route's prefix reaches the service as the
// package doc says, and each kind of answer becomes the CALLRESULT or
// CALLERROR it documents; nothing of a failing service reaches the
// caller.
func TestCall(t *testing.T) {
	got := make(chan map[string]any, 1)
	echo := backend(t, func(w http.ResponseWriter, r *http.Request) {
		var q map[string]any
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
			r.Header.Get("X-Api-Key") != "k1" || json.NewDecoder(r.Body).Decode(&q) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- q
		io.WriteString(w, `{"result": 5}`)
	})
	slow := backend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client's hang-up
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	big := `{"result": "` + strings.Repeat("x", 1<<20) + `"}`
	for _, tc := range []struct {
		name    string
		url     string
		args    []string
		timeout time.Duration
		check   func(t *testing.T, m []json.RawMessage)
	}{
		{"result", echo, []string{"2", "3"}, 0, func(t *testing.T, m []json.RawMessage) { wantResult(t, m, "c1", "5") }},
		{"error", backend(t, answer(200, `{"error": {"uri": "http://example.com/error#nope", "desc": "no", "details": {"a": 1}}}`)), nil, 0,
			func(t *testing.T, m []json.RawMessage) {
				wantError(t, m, "c1", "http://example.com/error#nope", "no")
				if len(m) != 5 || strings.ReplaceAll(string(m[4]), " ", "") != `{"a":1}` {
					t.Fatalf("details: %s", m)
				}
			}},
		{"error without details", backend(t, answer(200, `{"error": {"uri": "http://example.com/error#nope"}}`)), nil, 0,
			func(t *testing.T, m []json.RawMessage) {
				wantError(t, m, "c1", "http://example.com/error#nope", "")
				if len(m) != 4 {
					t.Fatalf("details: %s", m)
				}
			}},
		{"result null", backend(t, answer(200, `{"result": null}`)), nil, 0, func(t *testing.T, m []json.RawMessage) { wantResult(t, m, "c1", "null") }},
		{"timeout", slow, nil, 200 * time.Millisecond, func(t *testing.T, m []json.RawMessage) {
			wantError(t, m, "c1", protocol.ErrorURITimeout, "call timed out")
		}},
		{"5xx", backend(t, answer(500, `SECRET stack trace`)), nil, 0, internal},
		{"4xx with an error body", backend(t, answer(400, `{"error": {"uri": "http://example.com/error#SECRET"}}`)), nil, 0, internal},
		{"redirect", backend(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/SECRET", http.StatusTemporaryRedirect)
		}), nil, 0, internal},
		{"not JSON", backend(t, answer(200, `<html>SECRET</html>`)), nil, 0, internal},
		{"neither result nor error", backend(t, answer(200, `{"SECRET": 1}`)), nil, 0, internal},
		{"error without uri", backend(t, answer(200, `{"error": {"desc": "SECRET"}}`)), nil, 0, internal},
		{"too large", backend(t, answer(200, big)), nil, 0, internal},
		{"unreachable", unreachable(t), nil, 0, internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, forward.Options{Routes: []forward.Route{{Prefix: app, URL: tc.url, Timeout: tc.timeout,
				Header: http.Header{"X-Api-Key": {"k1"}}}}}, router.Options{})
			c := dial(t, e.url)
			tc.check(t, c.call("c1", app+"add", tc.args...))
			if strings.Contains(e.logs.String(), "k1") {
				t.Errorf("a header value reached the log: %s", e.logs)
			}
		})
	}
	select {
	case q := <-got:
		s, _ := q["session"].(map[string]any)
		if q["procedure"] != app+"add" || len(q["args"].([]any)) != 2 || s["client_ip"] != "127.0.0.1" ||
			s["id"] == "" || s["auth_key"] != "" || len(s["tags"].(map[string]any)) != 0 {
			t.Fatalf("the service got %v", q)
		}
	default:
		t.Fatal("the service got nothing")
	}
}

// internal checks that a failure answered ...#internal, "internal error",
// with nothing of the service's answer.
func internal(t *testing.T, m []json.RawMessage) {
	t.Helper()
	wantError(t, m, "c1", protocol.ErrorURIInternal, "internal error")
	if len(m) != 4 {
		t.Fatalf("details leaked: %s", m)
	}
}

// TestCallRouting: the longest prefix wins, a call under no prefix goes
// to the next RPC handler, and an empty argument list is sent as [].
func TestCallRouting(t *testing.T) {
	seen := make(chan string, 2)
	svc := func(name string) string {
		return backend(t, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			seen <- string(b)
			io.WriteString(w, `{"result": "`+name+`"}`)
		})
	}
	e := start(t, forward.Options{Routes: []forward.Route{
		{Prefix: "http://example.com/", URL: svc("site")},
		{Prefix: app, URL: svc("app")},
	}}, router.Options{})
	c := dial(t, e.url)
	wantResult(t, c.call("1", app+"x"), "1", `"app"`)
	wantResult(t, c.call("2", "http://example.com/other"), "2", `"site"`)
	wantResult(t, c.call("3", "http://other.example/x"), "3", `"fallback"`)
	for range 2 {
		if b := <-seen; !strings.Contains(b, `"args":[]`) {
			t.Fatalf("args not []: %s", b)
		}
	}
}

// TestCallBusy: past MaxInFlight a call answers ...#busy at once, while
// the call in flight is answered when its service is.
func TestCallBusy(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, `{"result": 1}`)
	})
	e := start(t, forward.Options{Routes: []forward.Route{{Name: "app", Prefix: app, URL: url, MaxInFlight: 1}}}, router.Options{})
	c := dial(t, e.url)
	c.Send(`[2,"c1","` + app + `slow"]`)
	<-arrived
	wantError(t, c.call("c2", app+"slow"), "c2", protocol.ErrorURIBusy, "backend app is busy")
	close(release)
	wantResult(t, c.answer(), "c1", "1")
}

// TestCallHoldsNoWorker: a forwarded call does not count against the
// router's MaxRunningCalls while its service works: with a limit of one,
// a second session's call reaches the service while the first waits.
func TestCallHoldsNoWorker(t *testing.T) {
	arrived, release := make(chan struct{}, 2), make(chan struct{})
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, `{"result": 1}`)
	})
	e := start(t, forward.Options{Routes: []forward.Route{{Prefix: app, URL: url}}}, router.Options{MaxRunningCalls: 1})
	a, b := dial(t, e.url), dial(t, e.url)
	a.Send(`[2,"a","` + app + `x"]`)
	<-arrived
	b.Send(`[2,"b","` + app + `x"]`)
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the second call never reached the service")
	}
	close(release)
	wantResult(t, a.answer(), "a", "1")
	wantResult(t, b.answer(), "b", "1")
}

// TestCallThroughHTTPAPI: a call made as the backend session
// (router.Server.CallAsBackend, what /api/call does) is forwarded too.
func TestCallThroughHTTPAPI(t *testing.T) {
	e := start(t, forward.Options{Routes: []forward.Route{{Prefix: app, URL: backend(t, answer(200, `{"result": 7}`))}}}, router.Options{})
	res, pe := e.srv.CallAsBackend(t.Context(), app+"x", nil)
	if pe != nil || string(res) != "7" {
		t.Fatalf("got %s %v", res, pe)
	}
}

// TestNew: options New cannot use are refused, naming the field.
func TestNew(t *testing.T) {
	for _, tc := range []struct {
		opts forward.Options
		want string
	}{
		{forward.Options{Routes: []forward.Route{{URL: "http://x/"}}}, "Routes[0].Prefix"},
		{forward.Options{Routes: []forward.Route{{Prefix: "a", URL: "ftp://x/"}}}, "Routes[0].URL"},
		{forward.Options{Routes: []forward.Route{{Prefix: "a", URL: "http://x/"}, {Prefix: "a", URL: "http://y/"}}}, "duplicate"},
		{forward.Options{SubscribeHook: &forward.Hook{URL: "x"}}, "SubscribeHook.URL"},
		{forward.Options{ConnectHook: &forward.Hook{URL: "http://x/", Timeout: -1}}, "ConnectHook"},
	} {
		_, err := forward.New(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %s", tc.opts, err, tc.want)
		}
	}
}

// TestCallLogsCut: a failing service's body reaches the log cut to
// logval.Max bytes, never the caller.
func TestCallLogsCut(t *testing.T) {
	body := strings.Repeat("SECRET ", 2000)
	e := start(t, forward.Options{Routes: []forward.Route{{Prefix: app, URL: backend(t, answer(502, body))}}}, router.Options{})
	c := dial(t, e.url)
	internal(t, c.call("c1", app+"x"))
	logs := e.logs.String()
	if !strings.Contains(logs, "502 Bad Gateway") || !strings.Contains(logs, "SECRET") || strings.Count(logs, "SECRET") > 40 {
		t.Fatalf("log: %s", logs)
	}
}
