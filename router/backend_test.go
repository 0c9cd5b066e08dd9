package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// TestPublishWith checks a backend publication over real sockets: the
// EVENT bytes each subscriber gets, the tag form reaching every base and
// plain connections, and the exclude and eligible lists
// (docs/protocol.md#publish-options).
func TestPublishWith(t *testing.T) {
	srv, url := startServer(t, router.Options{})
	const news = "http://example.com/news"
	fr := dial(t, url)
	subscribe(t, fr, news+"?lang=FR")
	en := dial(t, url)
	subscribe(t, en, news+"?lang=EN")
	other := dial(t, url)
	subscribe(t, other, "http://example.com/other?lang=FR")
	plain := dialPlain(t, srv, url, `{"lang":"FR"}`, 4)

	tests := []struct {
		name string
		pub  router.BackendPublication
		want map[*wsClient]string // receiver: exact message
	}{
		{"topic", router.BackendPublication{Topic: news + "?lang=FR", Event: json.RawMessage(`{"a":1}`)},
			map[*wsClient]string{fr: `[8,"http://example.com/news?lang=FR",{"a":1}]`}},
		{"topic base only", router.BackendPublication{Topic: news, Event: json.RawMessage(`null`)},
			map[*wsClient]string{fr: `[8,"http://example.com/news?lang=FR",null]`, en: `[8,"http://example.com/news?lang=EN",null]`}},
		{"tags", router.BackendPublication{Tags: json.RawMessage(`{"lang":"FR"}`), Event: json.RawMessage(`"hi"`)},
			map[*wsClient]string{
				fr:    `[8,"http://example.com/news?lang=FR","hi"]`,
				other: `[8,"http://example.com/other?lang=FR","hi"]`,
				plain: `"hi"`,
			}},
		{"exclude", router.BackendPublication{Tags: json.RawMessage(`{"lang":"FR"}`), Event: json.RawMessage(`1`),
			Exclude: []string{fr.SessionID, "nobody"}},
			map[*wsClient]string{other: `[8,"http://example.com/other?lang=FR",1]`, plain: `1`}},
		{"eligible", router.BackendPublication{Tags: json.RawMessage(`{}`), Event: json.RawMessage(`2`),
			Eligible: []string{en.SessionID, other.SessionID}, Exclude: []string{other.SessionID}},
			map[*wsClient]string{en: `[8,"http://example.com/news?lang=EN",2]`}},
		{"eligible empty", router.BackendPublication{Tags: json.RawMessage(`{}`), Event: json.RawMessage(`3`),
			Eligible: []string{}}, nil},
	}
	all := []*wsClient{fr, en, other, plain}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := srv.PublishWith(tc.pub)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tc.want) {
				t.Errorf("receivers %d, want %d", n, len(tc.want))
			}
			for _, c := range all {
				c.T = t
				if want, ok := tc.want[c]; ok {
					if got := c.Recv(); got != want {
						t.Errorf("got %s, want %s", got, want)
					}
				}
			}
			for _, c := range all {
				if _, ok := tc.want[c]; !ok {
					c.ExpectNothing(quiet)
				}
			}
		})
	}
}

// TestPublishWithRefused checks that a refused backend publication
// delivers nothing and says why.
func TestPublishWithRefused(t *testing.T) {
	srv, url := startServer(t, router.Options{MaxTagsPerTopic: 2, MaxURILength: 64, MaxPublishIDs: 2})
	sub := dial(t, url)
	subscribe(t, sub, "http://x.com/t")
	ev := json.RawMessage(`1`)
	tests := []struct {
		name string
		pub  router.BackendPublication
		want []error
	}{
		{"neither", router.BackendPublication{Event: ev}, []error{router.ErrBadPublication}},
		{"both", router.BackendPublication{Topic: "http://x.com/t", Tags: json.RawMessage(`{}`), Event: ev}, []error{router.ErrBadPublication}},
		{"no event", router.BackendPublication{Topic: "http://x.com/t"}, []error{router.ErrBadPublication}},
		{"event not JSON", router.BackendPublication{Topic: "http://x.com/t", Event: json.RawMessage(`{"a":`)}, []error{router.ErrBadPublication}},
		{"malformed topic", router.BackendPublication{Topic: "http://x.com/t?a", Event: ev}, []error{router.ErrBadPublication, tagindex.ErrNoEquals}},
		{"tags not an object", router.BackendPublication{Tags: json.RawMessage(`[1]`), Event: ev}, []error{router.ErrBadPublication}},
		{"too many tags", router.BackendPublication{Topic: "http://x.com/t?a=1&b=2&c=3", Event: ev}, []error{router.ErrOverLimit, tagindex.ErrTooManyTags}},
		{"too many JSON tags", router.BackendPublication{Tags: json.RawMessage(`{"a":1,"b":2,"c":3}`), Event: ev}, []error{router.ErrOverLimit, tagindex.ErrTooManyTags}},
		{"topic too long", router.BackendPublication{Topic: "http://x.com/t?a=" + strings.Repeat("x", 64), Event: ev}, []error{router.ErrOverLimit, tagindex.ErrTooLong}},
		{"too many excluded", router.BackendPublication{Topic: "http://x.com/t", Event: ev, Exclude: []string{"a", "b", "c"}}, []error{router.ErrOverLimit, protocol.ErrTooManyIDs}},
		{"too many eligible", router.BackendPublication{Topic: "http://x.com/t", Event: ev, Eligible: []string{"a", "b", "c"}}, []error{router.ErrOverLimit, protocol.ErrTooManyIDs}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := srv.PublishWith(tc.pub)
			if n != 0 || err == nil {
				t.Fatalf("PublishWith = %d, %v; want an error", n, err)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q is not %q", err, w)
				}
			}
		})
	}
	sub.ExpectNothing(quiet)
}

// TestPublishBatch checks that a batch is checked whole before anything
// is delivered, and delivered in order.
func TestPublishBatch(t *testing.T) {
	srv, url := startServer(t, router.Options{})
	a := dial(t, url)
	subscribe(t, a, "http://x.com/t?k=a")
	b := dial(t, url)
	subscribe(t, b, "http://x.com/t?k=b")

	_, err := srv.PublishBatch([]router.BackendPublication{
		{Topic: "http://x.com/t", Event: json.RawMessage(`1`)},
		{Topic: "http://x.com/t?k", Event: json.RawMessage(`2`)},
	})
	var be *router.BatchError
	if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, router.ErrBadPublication) {
		t.Fatalf("PublishBatch error %v, want a BatchError for index 1", err)
	}
	a.ExpectNothing(quiet)
	b.ExpectNothing(0)

	var batch []router.BackendPublication
	for i := range 10 {
		topic := "http://x.com/t"
		if i%3 == 1 {
			topic += "?k=b"
		}
		batch = append(batch, router.BackendPublication{Topic: topic, Event: json.RawMessage(fmt.Sprint(i))})
	}
	counts, err := srv.PublishBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range counts {
		want := 2
		if i%3 == 1 {
			want = 1
		}
		if n != want {
			t.Errorf("publication %d reached %d, want %d", i, n, want)
		}
	}
	for i := range 10 {
		if i%3 != 1 {
			if got, want := a.Recv(), fmt.Sprintf(`[8,"http://x.com/t?k=a",%d]`, i); got != want {
				t.Errorf("a got %s, want %s", got, want)
			}
		}
		if got, want := b.Recv(), fmt.Sprintf(`[8,"http://x.com/t?k=b",%d]`, i); got != want {
			t.Errorf("b got %s, want %s", got, want)
		}
	}
}

// TestPresence checks the count of distinct sessions and the capped ids.
func TestPresence(t *testing.T) {
	srv, url := startServer(t, router.Options{})
	a := dial(t, url)
	subscribe(t, a, "http://x.com/t?lang=FR", "http://x.com/u?lang=FR") // two subscriptions, one session
	b := dial(t, url)
	subscribe(t, b, "http://x.com/t?lang=FR&user=1")
	c := dial(t, url)
	subscribe(t, c, "http://x.com/t?lang=EN")

	tests := []struct {
		name  string
		topic string
		tags  string
		max   int
		count int
		ids   []string
	}{
		{"tags", "", `{"lang":"FR"}`, 10, 2, []string{a.SessionID, b.SessionID}},
		{"topic", "http://x.com/t?lang=FR", "", 10, 2, []string{a.SessionID, b.SessionID}},
		{"capped", "", `{"lang":"FR"}`, 1, 2, nil},
		{"no ids", "", `{}`, 0, 3, nil},
		{"nobody", "http://x.com/v", "", 10, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tags json.RawMessage
			if tc.tags != "" {
				tags = json.RawMessage(tc.tags)
			}
			n, ids, err := srv.Presence(tc.topic, tags, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.count {
				t.Errorf("count %d, want %d", n, tc.count)
			}
			if len(ids) != min(tc.max, tc.count) {
				t.Errorf("ids %q, want %d of them", ids, min(tc.max, tc.count))
			}
			if tc.ids != nil {
				slices.Sort(ids)
				want := slices.Sorted(slices.Values(tc.ids))
				if !slices.Equal(ids, want) {
					t.Errorf("ids %q, want %q", ids, want)
				}
			}
		})
	}
	if _, _, err := srv.Presence("", nil, 1); !errors.Is(err, router.ErrBadPublication) {
		t.Errorf("Presence without a selection: %v", err)
	}
}

// TestDisconnect closes a real session with 1008 and the reason.
func TestDisconnect(t *testing.T) {
	srv, url := startServer(t, router.Options{})
	a := dial(t, url)
	b := dial(t, url)
	if srv.Disconnect("no-such-session", "x") {
		t.Error("Disconnect of an unknown id reported true")
	}
	if !srv.Disconnect(a.SessionID, "kicked by the admin") {
		t.Fatal("Disconnect reported false")
	}
	a.ExpectClose(1008, "kicked by the admin")
	syncSession(t, b) // the other one is still served
}

// backendProcs are the procedures TestCallAsBackend calls.
func backendProcs() router.RPCHandler {
	return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		switch c.URI {
		case "echo":
			return json.RawMessage("[" + string(bytesJoin(c.Args)) + "]"), nil
		case "args-list":
			return c.ArgsList(), nil
		case "fail":
			return nil, &protocol.Error{URI: "http://x.com/error#bad", Desc: "bad input", Details: map[string]int{"n": 1}}
		case "secret-fail":
			return nil, errors.New("database password is hunter2")
		case "panic":
			panic("boom")
		case "whoami":
			s.SetValue("k", "v")
			return map[string]any{"id": s.ID(), "addr": s.RemoteAddr().String(), "uri": s.Request().URI,
				"req_addr": s.Request().RemoteAddr.String(), "value": s.Value("k"), "plain": s.Plain(),
				"backend": s.Backend()}, nil
		case "close":
			s.Close(protocol.CloseNormal, "bye")
			return "closed", nil
		case "defer":
			r := c.Defer()
			arg := string(c.Args[0]) // copied: the args are borrowed
			go func() {
				time.Sleep(10 * time.Millisecond)
				r.Send(json.RawMessage(arg), nil)
			}()
			return nil, nil
		case "defer-error":
			r := c.Defer()
			go r.Send(nil, &protocol.Error{URI: "http://x.com/error#later", Desc: "later"})
			return nil, nil
		case "defer-never":
			c.Defer()
			return nil, nil
		case "defer-close":
			c.Defer()
			s.Close(protocol.CloseNormal, "bye")
			return nil, nil
		case "slow":
			<-ctx.Done()
			return "late", nil
		}
		return nil, router.ErrNoSuchProcedure
	})
}

func bytesJoin(args []json.RawMessage) []byte {
	var out []byte
	for i, a := range args {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, a...)
	}
	return out
}

// TestCallAsBackend checks results and errors as a WAMP caller gets them,
// the middleware chain, the backend session's methods, deferred replies
// and the timeouts.
func TestCallAsBackend(t *testing.T) {
	var mu sync.Mutex // the middleware runs on the test's goroutine and on workers
	var mwSaw []string
	mw := func(next router.RPCHandler) router.RPCHandler {
		return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			mu.Lock()
			mwSaw = append(mwSaw, s.ID()+" "+c.URI)
			mu.Unlock()
			if c.URI == "denied" {
				return nil, &protocol.Error{URI: protocol.ErrorURINotAuthorized, Desc: "no"}
			}
			return next.ServeCall(ctx, s, c)
		})
	}
	srv, url := startServer(t, router.Options{RPC: backendProcs(), RPCMiddleware: []router.RPCMiddleware{mw},
		CallTimeout: 300 * time.Millisecond, MaxURILength: 32, MaxMessageElements: 3})
	ctx := context.Background()
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }

	tests := []struct {
		name    string
		proc    string
		args    []json.RawMessage
		result  string
		errURI  string
		errDesc string
		details string
	}{
		{name: "result", proc: "echo", args: []json.RawMessage{raw(`1`), raw(` {"a": [2]}`)}, result: `[1, {"a": [2]}]`},
		{name: "no args", proc: "echo", result: `[]`},
		{name: "args list", proc: "args-list", args: []json.RawMessage{raw(`1`), raw(` {"a": [2]}`)}, result: `[1, {"a": [2]}]`},
		{name: "own error", proc: "fail", errURI: "http://x.com/error#bad", errDesc: "bad input", details: `{"n":1}`},
		{name: "internal", proc: "secret-fail", errURI: protocol.ErrorURIInternal, errDesc: "internal error"},
		{name: "panic", proc: "panic", errURI: protocol.ErrorURIInternal, errDesc: "internal error"},
		{name: "no such procedure", proc: "nope", errURI: protocol.ErrorURINoSuchProcedure, errDesc: "no procedure registered for nope"},
		{name: "middleware", proc: "denied", errURI: protocol.ErrorURINotAuthorized, errDesc: "no"},
		{name: "session", proc: "whoami",
			result: `{"addr":"backend","backend":true,"id":"backend","plain":false,"req_addr":"backend","uri":"/","value":"v"}`},
		{name: "close", proc: "close", result: `"closed"`},
		{name: "deferred", proc: "defer", args: []json.RawMessage{raw(`{"x":1}`)}, result: `{"x":1}`},
		{name: "deferred error", proc: "defer-error", errURI: "http://x.com/error#later", errDesc: "later"},
		{name: "deferred never", proc: "defer-never", errURI: protocol.ErrorURITimeout, errDesc: "call timed out"},
		{name: "deferred then closed", proc: "defer-close", errURI: protocol.ErrorURIInternal, errDesc: "internal error"},
		{name: "timeout", proc: "slow", errURI: protocol.ErrorURITimeout, errDesc: "call timed out"},
		{name: "URI too long", proc: strings.Repeat("p", 33), errURI: protocol.ErrorURIInvalidArgument,
			errDesc: "procedure URI longer than 32 bytes"},
		{name: "no procedure", proc: "", errURI: protocol.ErrorURIInvalidArgument, errDesc: "no procedure"},
		{name: "too many args", proc: "echo", args: []json.RawMessage{raw(`1`), raw(`2`), raw(`3`), raw(`4`)},
			errURI: protocol.ErrorURIInvalidArgument, errDesc: "more than 3 arguments"},
		{name: "arg not JSON", proc: "echo", args: []json.RawMessage{raw(`1`), raw(`{`)},
			errURI: protocol.ErrorURIInvalidArgument, errDesc: "argument 1 is not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, perr := srv.CallAsBackend(ctx, tc.proc, tc.args)
			if tc.errURI == "" {
				if perr != nil {
					t.Fatalf("error %v", perr)
				}
				if string(res) != tc.result {
					t.Errorf("result %s, want %s", res, tc.result)
				}
				return
			}
			if perr == nil {
				t.Fatalf("result %s, want error %s", res, tc.errURI)
			}
			if perr.URI != tc.errURI || perr.Desc != tc.errDesc {
				t.Errorf("error %s %q, want %s %q", perr.URI, perr.Desc, tc.errURI, tc.errDesc)
			}
			var details string
			if perr.Details != nil {
				b, _ := json.Marshal(perr.Details)
				details = string(b)
			}
			if details != tc.details {
				t.Errorf("details %s, want %s", details, tc.details)
			}
		})
	}
	mu.Lock()
	if !slices.Contains(mwSaw, "backend echo") {
		t.Errorf("middleware saw %q", mwSaw)
	}
	mu.Unlock()

	t.Run("a client's session", func(t *testing.T) {
		c := dial(t, url)
		r := c.call(`[2,"w","whoami"]`)
		if len(r) != 3 || r[0] != 3.0 {
			t.Fatalf("answer %v", r)
		}
		if m, _ := r[2].(map[string]any); m["backend"] != false || m["id"] != c.SessionID {
			t.Errorf("a client's session seen as %v", r[2])
		}
	})
	t.Run("caller context", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, perr := srv.CallAsBackend(cctx, "defer-never", nil)
		if perr == nil || perr.URI != protocol.ErrorURITimeout {
			t.Errorf("error %v, want a timeout", perr)
		}
	})
	if st := srv.Stats(); st.Sessions != 0 {
		t.Errorf("backend calls counted as %d sessions", st.Sessions)
	}
}

// TestReady follows a server from New to Shutdown.
func TestReady(t *testing.T) {
	srv := router.New(router.Options{})
	if err := srv.Ready(); !errors.Is(err, router.ErrNotListening) {
		t.Errorf("Ready before Serve: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Ready while serving: %v", srv.Ready())
		}
		time.Sleep(time.Millisecond)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := srv.Ready(); !errors.Is(err, router.ErrServerClosed) {
		t.Errorf("Ready after Shutdown: %v", err)
	}
}
