package router_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// plainURL returns url with the tags parameter of a plain tag connection
// (docs/protocol.md#plain-connections); "" leaves it out.
func plainURL(base, tags string) string {
	if tags == "" {
		return base
	}
	return base + "?tags=" + url.QueryEscape(tags)
}

// dialPlain opens a plain tag connection (no subprotocol offered) and
// waits until the server holds want subscriptions in all, so that its own
// subscription is in the index.
func dialPlain(t testing.TB, srv *router.Server, base, tags string, want int64) *wsClient {
	t.Helper()
	c, err := wstest.Open(plainURL(base, tags), wstest.Options{Protocols: []string{}})
	if err != nil {
		t.Fatalf("plain dial %s: %v", tags, err)
	}
	c.T = t
	t.Cleanup(func() { c.Conn.Close() })
	if c.Handshake.Protocol != "" {
		t.Fatalf("plain connection negotiated %q", c.Handshake.Protocol)
	}
	waitSubscriptions(t, srv, want)
	return &wsClient{c}
}

// waitSubscriptions waits until the server counts want subscriptions; the
// deadline is a failure guard only.
func waitSubscriptions(t testing.TB, srv *router.Server, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Stats().Subscriptions != want {
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d subscriptions, want %d", srv.Stats().Subscriptions, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPlainConnect(t *testing.T) {
	srv, base := startServer(t, router.Options{})
	c := dialPlain(t, srv, base, `{"language":"FR","user":42}`, 1)
	// No WELCOME: a plain connection is not a WAMP session.
	c.ExpectNothing(quiet)
	pub := dial(t, base)
	pub.Send(`[7,"?language=FR",{"hello":"world"}]`)
	if got := c.Recv(); got != `{"hello":"world"}` {
		t.Fatalf("plain receiver got %s", got)
	}
}

func TestPlainBadTags(t *testing.T) {
	_, base := startServer(t, router.Options{})
	for _, tc := range []struct{ name, tags, reason string }{
		{"not JSON", `{"language":`, "bad tags"},
		{"not an object", `["FR"]`, "bad tags"},
		{"float value", `{"n":1.5}`, "bad tags"},
		{"bad key", `{"a b":"x"}`, "bad tags"},
		{"duplicate key", `{"a":"x","a":"y"}`, "bad tags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryDial(plainURL(base, tc.tags), []string{}...)
			var se ws.StatusError
			if !errors.As(err, &se) || int(se) != http.StatusBadRequest {
				t.Fatalf("dial error %v, want HTTP 400", err)
			}
			path := "/?tags=" + url.QueryEscape(tc.tags)
			r := wstest.RawUpgrade(t, base, wstest.Request{Path: path})
			if r.Code != http.StatusBadRequest || !strings.Contains(r.Body, tc.reason) {
				t.Fatalf("response %q %q, want 400 with %q", r.Status, r.Body, tc.reason)
			}
		})
	}
}

// TestPlainPublish checks docs/protocol.md#plain-requests: a plain request
// reaches plain and WAMP subscriptions whose tag sets contain its tags, on
// any base; WAMP subscribers get an EVENT with their own topic string,
// plain ones the message alone, byte for byte; and the publisher is
// excluded.
func TestPlainPublish(t *testing.T) {
	srv, base := startServer(t, router.Options{})
	fr := dialPlain(t, srv, base, `{"language":"FR","user":42}`, 1)
	en := dialPlain(t, srv, base, `{"language":"EN"}`, 2)
	frOnly := dialPlain(t, srv, base, `{"language":"FR"}`, 3)
	none := dialPlain(t, srv, base, "", 4)
	wampFR := dial(t, base)
	subscribe(t, wampFR, "http://example.com/news?user=42&language=FR")
	wampBase := dial(t, base)
	subscribe(t, wampBase, "http://example.com/news")

	msg := `{"message":{"text":"Bonjour", "n":[1, 2]},"tags":{"language":"FR"}}`
	frOnly.Send(msg)
	if got := fr.Recv(); got != `{"text":"Bonjour", "n":[1, 2]}` {
		t.Fatalf("plain {FR,42} got %s", got)
	}
	if got, want := wampFR.Recv(), `[8,"http://example.com/news?user=42&language=FR",{"text":"Bonjour", "n":[1, 2]}]`; got != want {
		t.Fatalf("WAMP subscriber got %s, want %s", got, want)
	}
	// An empty tag set is a subset of every set: it reaches everybody but
	// its publisher (docs/protocol.md#tag-matching).
	fr.Send(`{"message":"to all"}`)
	for name, c := range map[string]*wsClient{"EN": en, "FR-only": frOnly, "tagless": none} {
		if got := c.Recv(); got != `"to all"` {
			t.Fatalf("plain %s got %s", name, got)
		}
	}
	if got, want := wampBase.Recv(), `[8,"http://example.com/news","to all"]`; got != want {
		t.Fatalf("WAMP subscriber got %s, want %s", got, want)
	}
	if got, want := wampFR.Recv(), `[8,"http://example.com/news?user=42&language=FR","to all"]`; got != want {
		t.Fatalf("WAMP subscriber got %s, want %s", got, want)
	}
	// A WAMP PUBLISH reaches plain receivers as the bare event.
	wampBase.Send(`[7,"?language=EN",null]`)
	if got := en.Recv(); got != `null` {
		t.Fatalf("plain {EN} got %s", got)
	}
	for name, c := range map[string]*wsClient{"EN": en, "FR-only publisher": frOnly, "tagless": none, "WAMP base": wampBase, "WAMP FR": wampFR, "FR": fr} {
		c.T = t
		if m, err := c.Next(quiet); err == nil {
			t.Errorf("%s got %s, want nothing more", name, m)
		}
	}
}

func TestPlainDeliverToPublisher(t *testing.T) {
	srv, base := startServer(t, router.Options{DeliverToPublisher: true})
	c := dialPlain(t, srv, base, `{"room":"a"}`, 1)
	c.Send(`{"message":"echo","tags":{"room":"a"},"metadata":{}}`)
	if got := c.Recv(); got != `"echo"` {
		t.Fatalf("publisher got %s", got)
	}
}

// TestPlainMalformed checks each malformed request's close code and
// reason (router/doc.go, "Plain tag connections"), and that other
// sessions go on.
func TestPlainMalformed(t *testing.T) {
	srv, base := startServer(t, router.Options{})
	other := dialPlain(t, srv, base, "", 1)
	n := int64(1)
	for _, tc := range []struct {
		name, msg string
		code      ws.StatusCode
		reason    string
	}{
		{"invalid JSON", `{"message":`, 1007, "invalid JSON"},
		{"invalid UTF-8", "{\"message\":\"\xff\"}", 1007, "invalid UTF-8"},
		{"array", `["message"]`, 1002, "not a JSON object"},
		{"string", `"hello"`, 1002, "not a JSON object"},
		{"no message", `{"tags":{"a":"b"}}`, 1002, `no "message"`},
		{"unknown key", `{"message":1,"topic":"x"}`, 1002, `unknown key "topic"`},
		{"tags not an object", `{"message":1,"tags":["a"]}`, 1002, "tags must be an object"},
		{"tags null", `{"message":1,"tags":null}`, 1002, "tags must be an object"},
		{"tag value bool", `{"message":1,"tags":{"a":true}}`, 1002, "bad tags"},
		{"metadata not an object", `{"message":1,"metadata":"k"}`, 1002, "metadata must be an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n++
			c := dialPlain(t, srv, base, `{"x":"1"}`, n)
			c.Send(tc.msg)
			c.ExpectClose(tc.code, tc.reason)
			n--
			waitSubscriptions(t, srv, n)
		})
	}
	t.Run("binary", func(t *testing.T) {
		c := dialPlain(t, srv, base, "", 2)
		c.SendFrame(ws.NewBinaryFrame([]byte(`{"message":1}`)))
		c.ExpectClose(1003, "binary frames are not supported")
	})
	// The others never noticed.
	pub := dialPlain(t, srv, base, `{"y":"1"}`, 2)
	pub.Send(`{"message":"still here"}`)
	if got := other.Recv(); got != `"still here"` {
		t.Fatalf("other session got %s", got)
	}
}

// TestPlainSubprotocolRules: offering subprotocols without "wamp" is
// still refused (docs/protocol.md#subprotocol); offering none is a plain
// connection.
func TestPlainSubprotocolRules(t *testing.T) {
	_, base := startServer(t, router.Options{})
	r := wstest.RawUpgrade(t, base, wstest.Request{Protocols: []string{"mqtt"}})
	if r.Code != http.StatusBadRequest || !strings.Contains(r.Body, "unsupported subprotocol mqtt") {
		t.Fatalf("response %q %q, want 400", r.Status, r.Body)
	}
	r = wstest.RawUpgrade(t, base, wstest.Request{Path: "/?tags=" + url.QueryEscape(`{"a":1}`)})
	if r.Code != http.StatusSwitchingProtocols || r.Header.Get("Sec-WebSocket-Protocol") != "" {
		t.Fatalf("response %q %v, want 101 without a subprotocol", r.Status, r.Header)
	}
}

// TestPlainTopicHandler checks that plain requests go through the topic
// handler, with Metadata and Session.Plain, and that a denied plain
// subscription is refused before the upgrade.
func TestPlainTopicHandler(t *testing.T) {
	type seen struct {
		plain          bool
		tags, metadata string
	}
	got := make(chan seen, 4)
	h := topicFuncs{
		sub: func(s *router.Session, sub *router.Subscription) error {
			if v, _ := sub.Tags.Get("deny"); v == "yes" {
				return errors.New("denied")
			}
			if v, _ := sub.Tags.Get("deny"); v == "401" {
				return &router.HTTPError{Status: http.StatusUnauthorized, Reason: "who are you"}
			}
			return nil
		},
		pub: func(s *router.Session, p *router.Publication) error {
			got <- seen{s.Plain(), p.Tags.String(), string(p.Metadata)}
			if string(p.Metadata) == `{"drop":true}` {
				return errors.New("dropped")
			}
			return nil
		},
	}
	srv, base := startServer(t, router.Options{Topics: []router.TopicHandler{h}})
	for _, tc := range []struct {
		tags   string
		code   int
		reason string
	}{
		{`{"deny":"yes"}`, http.StatusForbidden, "not authorized to receive publications with these tags"},
		{`{"deny":"401"}`, http.StatusUnauthorized, "who are you"},
	} {
		r := wstest.RawUpgrade(t, base, wstest.Request{Path: "/?tags=" + url.QueryEscape(tc.tags)})
		if r.Code != tc.code || !strings.Contains(r.Body, tc.reason) {
			t.Fatalf("tags %s: response %q %q, want %d %q", tc.tags, r.Status, r.Body, tc.code, tc.reason)
		}
	}
	rcv := dialPlain(t, srv, base, `{"a":"1"}`, 1)
	pub := dialPlain(t, srv, base, "", 2)
	pub.Send(`{"message":1,"tags":{"a":"1"},"metadata":{"drop":true}}`)
	pub.Send(`{"message":2,"tags":{"a":"1"},"metadata":{"k":"v"}}`)
	if m := rcv.Recv(); m != "2" {
		t.Fatalf("receiver got %s, want only the allowed 2", m)
	}
	for i, want := range []seen{{true, "?a=1", `{"drop":true}`}, {true, "?a=1", `{"k":"v"}`}} {
		if s := <-got; s != want {
			t.Fatalf("publication %d: handler saw %+v, want %+v", i, s, want)
		}
	}
	if d := srv.Stats().DroppedPublishes; d != 1 {
		t.Fatalf("DroppedPublishes = %d, want 1", d)
	}
}

type topicFuncs struct {
	sub func(*router.Session, *router.Subscription) error
	pub func(*router.Session, *router.Publication) error
}

func (f topicFuncs) Subscribe(_ context.Context, s *router.Session, sub *router.Subscription) error {
	return f.sub(s, sub)
}

func (f topicFuncs) Publish(_ context.Context, s *router.Session, p *router.Publication) error {
	return f.pub(s, p)
}
