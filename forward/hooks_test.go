package forward_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

const news = "http://example.com/news"

// subscribed subscribes c to topic and reports how many subscriptions
// receive a publication to pubTopic once the SUBSCRIBE is handled (a
// CALL after it is answered after it).
func subscribed(t *testing.T, e *env, c *wamp, topic, pubTopic string) int {
	t.Helper()
	c.Send(`[5,"` + topic + `"]`)
	wantResult(t, c.call("sync", "urn:sync"), "sync", `"fallback"`)
	n, err := e.srv.Publish(pubTopic, []byte(`1`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSubscribeHook: the hook's answer decides on a SUBSCRIBE; its tags
// are set on the subscription; a failing hook decides by OnError.
func TestSubscribeHook(t *testing.T) {
	got := make(chan map[string]any, 1)
	asked := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var q map[string]any
			json.NewDecoder(r.Body).Decode(&q)
			select {
			case got <- q:
			default:
			}
			io.WriteString(w, body)
		}
	}
	for _, tc := range []struct {
		name     string
		url      string
		onError  forward.OnError
		pubTopic string
		want     int
	}{
		{"allow", backend(t, asked(`{"allow": true}`)), forward.Refuse, news + "?lang=FR", 1},
		{"refuse", backend(t, asked(`{"allow": false}`)), forward.Allow, news + "?lang=FR", 0},
		{"bind", backend(t, asked(`{"allow": true, "tags": {"user": 42}}`)), forward.Refuse, news + "?user=43", 0},
		{"bind reaches its own", backend(t, asked(`{"allow": true, "tags": {"user": 42}}`)), forward.Refuse, news + "?user=42", 1},
		{"down, refuse", unreachable(t), forward.Refuse, news, 0},
		{"down, allow", unreachable(t), forward.Allow, news, 1},
		{"5xx, refuse", backend(t, answer(500, "")), forward.Refuse, news, 0},
		{"5xx, allow", backend(t, answer(500, "")), forward.Allow, news, 1},
		{"malformed, refuse", backend(t, answer(200, `{"ok": true}`)), forward.Refuse, news, 0},
		{"bad tags, refuse", backend(t, answer(200, `{"allow": true, "tags": {"user": [1]}}`)), forward.Refuse, news, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, forward.Options{SubscribeHook: &forward.Hook{URL: tc.url, OnError: tc.onError}}, router.Options{})
			c := dial(t, e.url)
			if n := subscribed(t, e, c, news+"?lang=FR", tc.pubTopic); n != tc.want {
				t.Fatalf("a publication to %s reached %d, want %d\n%s", tc.pubTopic, n, tc.want, e.logs)
			}
		})
	}
	q := <-got
	if q["topic"] != news+"?lang=FR" || q["tags"].(map[string]any)["lang"] != "FR" || q["session"].(map[string]any)["id"] == "" {
		t.Fatalf("the hook was asked %v", q)
	}
}

// TestSubscribeHookTimeout: a hook slower than its Timeout has failed,
// and the SUBSCRIBE waits no longer than that.
func TestSubscribeHookTimeout(t *testing.T) {
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	e := start(t, forward.Options{SubscribeHook: &forward.Hook{URL: url, Timeout: 100 * time.Millisecond}}, router.Options{})
	c := dial(t, e.url)
	begin := time.Now()
	if n := subscribed(t, e, c, news, news); n != 0 {
		t.Fatalf("reached %d", n)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Fatalf("the SUBSCRIBE waited %v", d)
	}
}

// TestConnectHook: the hook admits or refuses connections, a failing
// hook decides by OnError, and the tags it binds hold for SUBSCRIBE,
// PUBLISH and what services are told of the session.
func TestConnectHook(t *testing.T) {
	got := make(chan map[string]any, 1)
	allowUser := backend(t, func(w http.ResponseWriter, r *http.Request) {
		var q map[string]any
		json.NewDecoder(r.Body).Decode(&q)
		select {
		case got <- q:
		default:
		}
		io.WriteString(w, `{"allow": true, "tags": {"user": "42"}}`)
	})
	for _, tc := range []struct {
		name    string
		url     string
		onError forward.OnError
		code    int
	}{
		{"refuse", backend(t, answer(200, `{"allow": false}`)), forward.Allow, 403},
		{"down, refuse", unreachable(t), forward.Refuse, 503},
		{"down, allow", unreachable(t), forward.Allow, 101},
		{"allow", allowUser, forward.Refuse, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, forward.Options{ConnectHook: &forward.Hook{URL: tc.url, OnError: tc.onError}}, router.Options{})
			resp := wstest.RawUpgrade(t, e.url, wstest.Request{Path: "/?room=1", Protocols: []string{"wamp"},
				Extra: "Origin: https://app.example.com\r\nCookie: SECRET=1\r\n"})
			if resp.Code != tc.code {
				t.Fatalf("answered %s %q, want %d", resp.Status, resp.Body, tc.code)
			}
		})
	}
	q := <-got
	h, _ := q["headers"].(map[string]any)
	if q["uri"] != "/?room=1" || q["client_ip"] != "127.0.0.1" || h["Origin"] != "https://app.example.com" || len(h) != 1 {
		t.Fatalf("the hook was asked %v", q)
	}

	told := make(chan string, 1)
	rpc := backend(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		told <- string(b)
		io.WriteString(w, `{"result": 1}`)
	})
	e := start(t, forward.Options{ConnectHook: &forward.Hook{URL: allowUser}, Routes: []forward.Route{{Prefix: app, URL: rpc}}}, router.Options{})
	c := dial(t, e.url)
	if n := subscribed(t, e, c, news, news+"?user=43"); n != 0 {
		t.Fatalf("a publication for user 43 reached %d", n)
	}
	if n, _ := e.srv.Publish(news+"?user=42", []byte(`1`)); n != 1 {
		t.Fatalf("news, bound to user 42, reached %d for user 42", n)
	}
	if m := c.answer(); string(m[0]) != "8" {
		t.Fatalf("got %s, want the EVENT", m)
	}
	if n := subscribed(t, e, c, news+"?user=43", news+"?user=43"); n != 0 {
		t.Fatalf("a subscription naming user 43 was kept")
	}
	wantResult(t, c.call("c", app+"x"), "c", "1")
	if b := <-told; !strings.Contains(b, `"tags":{"user":"42"}`) {
		t.Fatalf("the service was told %s", b)
	}
	// A PUBLISH naming another user is dropped: the subscriber for user 43
	// gets nothing, the one for user 42 what is published to it.
	other := dial(t, e.url)
	other.Send(`[7,"` + news + `?user=43",1]`)
	other.Send(`[7,"` + news + `?user=42",2]`)
	var m []json.RawMessage
	c.RecvJSON(&m)
	if string(m[2]) != "2" {
		t.Fatalf("got %s", m)
	}
}

// TestSubscribeHookPlain: a plain tag connection's tags are asked about
// before its upgrade, topic "", and a refusal answers 403.
func TestSubscribeHookPlain(t *testing.T) {
	asked := make(chan string, 2)
	for _, tc := range []struct {
		allow string
		code  int
	}{{"false", 403}, {"true", 101}} {
		url := backend(t, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			asked <- string(b)
			io.WriteString(w, `{"allow": `+tc.allow+`}`)
		})
		e := start(t, forward.Options{SubscribeHook: &forward.Hook{URL: url}}, router.Options{})
		resp := wstest.RawUpgrade(t, e.url, wstest.Request{Path: "/?tags=%7B%22lang%22%3A%22FR%22%7D"})
		if resp.Code != tc.code {
			t.Fatalf("allow %s: answered %s, want %d", tc.allow, resp.Status, tc.code)
		}
		if b := <-asked; !strings.Contains(b, `"topic":"","tags":{"lang":"FR"}`) {
			t.Fatalf("the hook was asked %s", b)
		}
	}
}
