package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/httpapi"
	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// quiet is how long a client must receive nothing.
const quiet = 150 * time.Millisecond

// e2e is a router serving WAMP on a loopback port and the API over it on
// another, both stopped with the test.
type e2e struct {
	srv  *router.Server
	ws   string // ws:// URL of the router
	api  string // http:// URL of the API
	test *testing.T
}

func startE2E(t *testing.T) *e2e {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(router.Options{RPC: router.RPCHandlerFunc(procs)})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	h, err := httpapi.New(httpapi.Config{
		Server: srv,
		Keys:   []httpapi.Key{{Name: "e2e", Key: allKey, Endpoints: []httpapi.Endpoint{httpapi.EndpointAll}}},
		Ready:  srv.Ready,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, router.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return &e2e{srv: srv, ws: "ws://" + ln.Addr().String() + "/", api: hs.URL, test: t}
}

// procs are the procedures the end-to-end test calls; "sync" answers
// once the messages a session sent before it are handled.
func procs(_ context.Context, s *router.Session, c *router.Call) (any, error) {
	switch c.URI {
	case "http://x.com/add":
		var a, b float64
		if len(c.Args) != 2 || protocol.Unmarshal(c.Args[0], &a) != nil || protocol.Unmarshal(c.Args[1], &b) != nil {
			return nil, &protocol.Error{URI: protocol.ErrorURIInvalidArgument, Desc: "two numbers", Details: map[string]int{"got": len(c.Args)}}
		}
		return a + b, nil
	case "sync":
		return nil, nil
	}
	return nil, router.ErrNoSuchProcedure
}

// post sends body to path with the key and returns the status and body.
func (e *e2e) post(path, body string) (int, string) {
	e.test.Helper()
	req, err := http.NewRequest("POST", e.api+path, strings.NewReader(body))
	if err != nil {
		e.test.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+allKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.test.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.test.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// dial opens a WAMP session subscribed to topics, once the router holds
// the subscriptions.
func (e *e2e) dial(topics ...string) *wstest.Client {
	e.test.Helper()
	c := wstest.Dial(e.test, e.ws, wstest.Options{})
	for _, tp := range topics {
		c.Send(fmt.Sprintf(`[5,%q]`, tp))
	}
	c.Send(`[2,"sync","sync"]`)
	if got := c.Recv(); got != `[3,"sync",null]` {
		e.test.Fatalf("sync answered %s", got)
	}
	return c
}

func TestEndToEnd(t *testing.T) {
	e := startE2E(t)
	const news = "http://example.com/news"
	fr := e.dial(news + "?lang=FR")
	fr42 := e.dial(news + "?lang=FR&user=42")
	en := e.dial(news + "?lang=EN")
	all := []*wstest.Client{fr, fr42, en}

	// expect checks that each client got exactly its message, the others
	// nothing.
	expect := func(t *testing.T, want map[*wstest.Client][]string) {
		t.Helper()
		for _, c := range all {
			c.T = t
			for _, w := range want[c] {
				if got := c.Recv(); got != w {
					t.Errorf("got %s, want %s", got, w)
				}
			}
		}
		for _, c := range all {
			c.ExpectNothing(quiet)
		}
	}

	t.Run("publish topic", func(t *testing.T) {
		status, body := e.post("/api/publish", `{"topic":"`+news+`?lang=FR","event":{"text": "Bonjour", "n": 1.50}}`)
		if status != 200 || body != `{"receivers":2}` {
			t.Fatalf("%d %s", status, body)
		}
		// The event's bytes as the HTTP client wrote them, each EVENT
		// carrying its subscriber's own topic.
		expect(t, map[*wstest.Client][]string{
			fr:   {`[8,"http://example.com/news?lang=FR",{"text": "Bonjour", "n": 1.50}]`},
			fr42: {`[8,"http://example.com/news?lang=FR&user=42",{"text": "Bonjour", "n": 1.50}]`},
		})
	})
	t.Run("publish tags", func(t *testing.T) {
		status, body := e.post("/api/publish", `{"tags":{"user":42},"message":"hi"}`)
		if status != 200 || body != `{"receivers":1}` {
			t.Fatalf("%d %s", status, body)
		}
		expect(t, map[*wstest.Client][]string{fr42: {`[8,"http://example.com/news?lang=FR&user=42","hi"]`}})
	})
	t.Run("exclude and eligible", func(t *testing.T) {
		status, body := e.post("/api/publish", fmt.Sprintf(`{"topic":%q,"event":1,"exclude":[%q]}`, news, fr.SessionID))
		if status != 200 || body != `{"receivers":2}` {
			t.Fatalf("%d %s", status, body)
		}
		expect(t, map[*wstest.Client][]string{
			fr42: {`[8,"http://example.com/news?lang=FR&user=42",1]`},
			en:   {`[8,"http://example.com/news?lang=EN",1]`},
		})
		status, body = e.post("/api/publish", fmt.Sprintf(`{"tags":{},"message":2,"eligible":[%q,%q],"exclude":[%q]}`,
			fr.SessionID, en.SessionID, en.SessionID))
		if status != 200 || body != `{"receivers":1}` {
			t.Fatalf("%d %s", status, body)
		}
		expect(t, map[*wstest.Client][]string{fr: {`[8,"http://example.com/news?lang=FR",2]`}})
		status, body = e.post("/api/publish", `{"tags":{},"message":3,"eligible":[]}`)
		if status != 200 || body != `{"receivers":0}` {
			t.Fatalf("%d %s", status, body)
		}
		expect(t, nil)
	})
	t.Run("batch", func(t *testing.T) {
		status, body := e.post("/api/batch", `[
			{"topic":"`+news+`","event":"a"},
			{"tags":{"lang":"EN"},"message":"b"},
			{"topic":"`+news+`?lang=FR","event":"c","exclude":["`+fr42.SessionID+`"]}
		]`)
		if status != 200 || body != `{"results":[{"receivers":3},{"receivers":1},{"receivers":1}]}` {
			t.Fatalf("%d %s", status, body)
		}
		expect(t, map[*wstest.Client][]string{
			fr:   {`[8,"http://example.com/news?lang=FR","a"]`, `[8,"http://example.com/news?lang=FR","c"]`},
			fr42: {`[8,"http://example.com/news?lang=FR&user=42","a"]`},
			en:   {`[8,"http://example.com/news?lang=EN","a"]`, `[8,"http://example.com/news?lang=EN","b"]`},
		})
	})
	t.Run("batch refused whole", func(t *testing.T) {
		status, body := e.post("/api/batch", `[
			{"topic":"`+news+`","event":"a"},
			{"topic":"`+news+`?lang","event":"b"}
		]`)
		if status != 400 || !strings.Contains(body, `"index":1`) || !strings.Contains(body, `"bad_publication"`) {
			t.Fatalf("%d %s", status, body)
		}
		expect(t, nil) // nothing half-published
	})
	t.Run("presence", func(t *testing.T) {
		status, body := e.post("/api/presence", `{"tags":{"lang":"FR"}}`)
		var p struct {
			Sessions int      `json:"sessions"`
			IDs      []string `json:"ids"`
		}
		if err := json.Unmarshal([]byte(body), &p); status != 200 || err != nil {
			t.Fatalf("%d %s", status, body)
		}
		slices.Sort(p.IDs)
		want := []string{fr.SessionID, fr42.SessionID}
		slices.Sort(want)
		if p.Sessions != 2 || !slices.Equal(p.IDs, want) {
			t.Errorf("presence %s, want ids %q", body, want)
		}
		status, body = e.post("/api/presence", `{"topic":"`+news+`","limit":1}`)
		if err := json.Unmarshal([]byte(body), &p); status != 200 || err != nil || p.Sessions != 3 || len(p.IDs) != 1 {
			t.Errorf("capped presence %d %s", status, body)
		}
	})
	t.Run("call", func(t *testing.T) {
		status, body := e.post("/api/call", `{"procedure":"http://x.com/add","args":[2,3.5]}`)
		if status != 200 || body != `{"result":5.5}` {
			t.Errorf("%d %s", status, body)
		}
		status, body = e.post("/api/call", `{"procedure":"http://x.com/add","args":["x"]}`)
		want := `{"error":{"uri":"http://api.wamp.ws/error#invalid-argument","desc":"two numbers","details":{"got":1}}}`
		if status != 200 || body != want {
			t.Errorf("%d %s, want %s", status, body, want)
		}
	})
	t.Run("disconnect", func(t *testing.T) {
		status, body := e.post("/api/disconnect", fmt.Sprintf(`{"session":%q,"reason":"banned"}`, en.SessionID))
		if status != 200 || body != `{"disconnected":true}` {
			t.Fatalf("%d %s", status, body)
		}
		en.T = t
		en.ExpectClose(1008, "banned")
		status, body = e.post("/api/disconnect", fmt.Sprintf(`{"session":%q}`, en.SessionID))
		if status != 404 {
			t.Errorf("second disconnect: %d %s", status, body)
		}
	})
}
