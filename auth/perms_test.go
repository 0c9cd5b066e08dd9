package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

const (
	news  = "http://example.com/news"
	admin = "http://example.com/admin"
)

// browserPerms is what anonymous sessions get in these tests.
var browserPerms = Permissions{
	RPC: []RPCRule{
		{URI: whoami, Call: true},
		{URI: "urn:calc#", Prefix: true, Call: true},
		{URI: "urn:calc#secret", Call: false},
	},
	PubSub: []TopicRule{
		{URI: "http://example.com/", Prefix: true, Sub: true},
		{URI: admin, Prefix: true}, // more specific: denies
		{URI: "http://example.com/chat", Pub: true, Sub: true},
	},
}

// backendURL returns the URL of a key-and-secret session (AllPermissions).
func backendURL(u string) string { return u + "?key=" + appKey + "&secret=" + appSecret.Reveal() }

func TestCallPermissions(t *testing.T) {
	a, _, u := startAuth(t, Options{Applications: testApps(), Anonymous: browserPerms}, router.Options{})
	c := dial(t, u)
	tests := []struct {
		uri   string
		allow bool
	}{
		{whoami, true},
		{"urn:calc#add", true},
		{"urn:calc#", true},
		{"urn:calc#secret", false}, // exact beats prefix
		{"urn:calc#secretive", true},
		{"urn:calc", false},
		{"urn:other", false},
		{ProcAuthReq, true}, // always callable: answers its own errors
	}
	denied := 0
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			r := c.call("1", tt.uri)
			switch {
			case tt.uri == ProcAuthReq:
				if r[0] != float64(3) {
					t.Fatalf("authreq: %v", r)
				}
			case tt.allow:
				if r[0] != float64(3) || r[2] != "ok:"+tt.uri && tt.uri != whoami {
					t.Fatalf("allowed call answered %v", r)
				}
			default:
				denied++
				if r[0] != float64(4) || r[2] != protocol.ErrorURINotAuthorized || r[3] != "not authorized to call "+tt.uri {
					t.Fatalf("denied call answered %v", r)
				}
			}
		})
	}
	// The backend has AllPermissions.
	b := dial(t, backendURL(u))
	if r := b.mustResult("urn:other"); r != "ok:urn:other" {
		t.Fatalf("backend call %v", r)
	}
	if n := a.Stats().DeniedCalls; n != uint64(denied) {
		t.Fatalf("DeniedCalls = %d, want %d", n, denied)
	}
}

// TestTopicPermissions subscribes and publishes as an anonymous browser,
// and proves each refusal with a later event that does arrive: events from
// one publisher reach a receiver in order, so an event that was not
// delivered before the marker never will be.
func TestTopicPermissions(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, srv, u := startAuth(t, Options{Applications: testApps(), Anonymous: browserPerms},
		router.Options{Logger: logger})
	backend := dial(t, backendURL(u))
	browser := dial(t, u)

	// Subscriptions: allowed ones are proven by the marker events below.
	for _, topic := range []string{
		news + "?lang=FR",         // allowed by the prefix http://example.com/
		admin + "/users",          // denied by the longer prefix
		"http://other.org/news",   // no rule
		"http://example.com/chat", // exact rule
		"?user=42",                // no base: only an empty prefix would match
	} {
		browser.Send(`[5,"` + topic + `"]`)
	}
	browser.mustResult(whoami) // its subscriptions are handled
	pub := func(c *wsClient, topic string, event any) {
		b, _ := json.Marshal([]any{7, topic, event})
		c.Send(string(b))
	}
	pub(backend, admin+"/users", "admin")
	pub(backend, "http://other.org/news", "other")
	pub(backend, "?user=42", "tags only")
	pub(backend, news+"?lang=FR", "marker 1")
	browser.expectEvent(news+"?lang=FR", "marker 1")
	if n := a.Stats().DeniedSubscribes; n != 3 {
		t.Fatalf("DeniedSubscribes = %d, want 3", n)
	}
	if n := srv.Stats().DroppedSubscribes; n != 3 {
		t.Fatalf("router DroppedSubscribes = %d, want 3", n)
	}

	// Publications by the browser: only chat is allowed.
	backend.Send(`[5,"` + news + `"]`)
	backend.Send(`[5,"http://example.com/chat"]`)
	backend.Send(`[5,"?user=42"]`)
	backend.mustResult(whoami)                    // the subscriptions are in place
	pub(browser, news, "browser news")            // sub only
	pub(browser, "?user=42", "browser tags")      // broadcast
	pub(browser, "", "browser everybody")         // empty tag set: broadcast
	pub(browser, "http://example.com/chat", "hi") // allowed
	backend.expectEvent("http://example.com/chat", "hi")
	if n := a.Stats().DeniedPublishes; n != 3 {
		t.Fatalf("DeniedPublishes = %d, want 3", n)
	}
	if n := srv.Stats().DroppedPublishes; n != 3 {
		t.Fatalf("router DroppedPublishes = %d, want 3", n)
	}
	// The backend may broadcast.
	pub(backend, "?user=42", "to 42")
	pub(backend, news+"?lang=FR", "marker 2")
	browser.expectEvent(news+"?lang=FR", "marker 2")

	for _, want := range []string{ErrSubscribeDenied.Error(), ErrPublishDenied.Error(), ErrBroadcastDenied.Error()} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(logs.String(), appSecret.Reveal()) {
		t.Error("log holds the secret")
	}
}

func TestBoundTags(t *testing.T) {
	tokPerms := Permissions{PubSub: []TopicRule{{URI: news, Pub: true, Sub: true}}, RPC: []RPCRule{{URI: whoami, Call: true}}}
	apps := []Application{{Key: appKey, Secret: appSecret, TokenPermissions: &tokPerms}}
	a, _, u := startAuth(t, Options{RequireCredentials: true, Applications: apps}, router.Options{})
	token := func(user string) string {
		tok, err := NewToken(appKey, appSecret, "user-"+user, map[string]string{"user": user}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	backend := dial(t, backendURL(u))
	u42 := dial(t, u+"?token="+token("42"))
	u43 := dial(t, u+"?token="+token("43"))

	u43.Send(`[5,"` + news + `?user=42"]`) // another user's value: refused
	u43.Send(`[5,"` + news + `?user=43"]`) // its own
	u42.Send(`[5,"` + news + `"]`)         // lacks the key: user=42 added
	u42.Send(`[5,"` + news + `?lang=FR"]`) // lacks the key: user=42 added
	u42.mustResult(whoami)
	u43.mustResult(whoami)
	if n := a.Stats().DeniedSubscribes; n != 1 {
		t.Fatalf("DeniedSubscribes = %d, want 1", n)
	}
	pub := func(c *wsClient, topic string, event any) {
		b, _ := json.Marshal([]any{7, topic, event})
		c.Send(string(b))
	}
	pub(backend, news+"?user=42", "for 42")
	// u42 receives it on both subscriptions, each EVENT with its own topic
	// string; u43 does not (its first subscription was refused).
	got := map[string]bool{}
	for range 2 {
		var r []any
		u42.RecvJSON(&r)
		got[fmt.Sprint(r)] = true
	}
	if !got[fmt.Sprint([]any{float64(8), news, "for 42"})] || !got[fmt.Sprint([]any{float64(8), news + "?lang=FR", "for 42"})] {
		t.Fatalf("u42 received %v", got)
	}
	pub(backend, news+"?user=43", "for 43")
	u43.expectEvent(news+"?user=43", "for 43")

	// A bound session cannot publish to another user's value.
	// Its publication without the bound key is left as is: it reaches
	// everybody on the base, which its pub permission allows.
	pub(u42, news+"?user=43", "spoof")
	pub(u42, news+"?user=43&x=1", "spoof 2")
	pub(u42, news, "marker from 42")
	u43.expectEvent(news+"?user=43", "marker from 42")
	if n := a.Stats().DeniedPublishes; n != 2 {
		t.Fatalf("DeniedPublishes = %d, want 2", n)
	}
	// u42, the publisher, did not receive its own events; the next ones it
	// gets are the backend's.
	pub(backend, news, "to all")
	for range 2 {
		var r []any
		u42.RecvJSON(&r)
		if r[2] != "to all" {
			t.Fatalf("u42 received %v before the broadcast marker", r)
		}
	}
	// A bound session cannot shed its tags with WAMP-CRA.
	if uri, _ := u42.callError(ProcAuthReq, appKey); uri != ErrorURIAlreadyAuthenticated {
		t.Fatalf("authreq on a token session: %s", uri)
	}
}

func TestNew(t *testing.T) {
	perms := func(p Permissions) *Permissions { return &p }
	tests := []struct {
		name string
		o    Options
		want error  // errors.Is
		text string // substring
	}{
		{name: "zero", o: Options{}},
		{name: "credentials without applications", o: Options{RequireCredentials: true}, want: ErrNoApplications},
		{name: "empty key", o: Options{Applications: []Application{{Secret: appSecret}}}, want: ErrBadApplication,
			text: "applications[0]: empty key"},
		{name: "duplicate key", o: Options{Applications: []Application{{Key: "a", Secret: appSecret}, {Key: "a", Secret: appSecret}}},
			want: ErrBadApplication, text: `applications[1]: duplicate key "a"`},
		{name: "short secret", o: Options{Applications: []Application{{Key: "a", Secret: "short"}}},
			want: ErrBadApplication, text: `key "a": secret shorter than 16 bytes`},
		{name: "bad permissions", o: Options{Applications: []Application{{Key: "a", Secret: appSecret,
			Permissions: perms(Permissions{RPC: []RPCRule{{Call: true}}})}}},
			want: ErrBadApplication, text: "permissions: rpc[0]: empty uri"},
		{name: "bad token permissions", o: Options{Applications: []Application{{Key: "a", Secret: appSecret,
			TokenPermissions: perms(Permissions{PubSub: []TopicRule{{URI: "x?a=1", Sub: true}}})}}},
			want: ErrBadApplication, text: "token permissions: pubsub[0]: uri \"x?a=1\" has a query"},
		{name: "bad anonymous", o: Options{Anonymous: Permissions{PubSub: []TopicRule{{URI: "x"}, {URI: "x"}}}},
			text: `anonymous permissions: pubsub[1]: duplicate rule for "x"`},
		{name: "cra with defaults", o: Options{Applications: []Application{{Key: "a", Secret: appSecret,
			CRA: &SaltParams{Salt: "s"}}}}},
		{name: "cra without salt", o: Options{Applications: []Application{{Key: "a", Secret: appSecret,
			CRA: &SaltParams{Iterations: 10}}}}, want: ErrBadApplication, text: `key "a": cra: salt must not be empty`},
		{name: "cra iterations over the bound", o: Options{Applications: []Application{{Key: "a", Secret: appSecret,
			CRA: &SaltParams{Salt: "s", Iterations: MaxIterations + 1}}}},
			want: ErrBadApplication, text: `key "a": cra: iterations must be from 1 to 1000000`},
		{name: "cra negative iterations", o: Options{Applications: []Application{{Key: "a", Secret: appSecret,
			CRA: &SaltParams{Salt: "s", Iterations: -1}}}},
			want: ErrBadApplication, text: `key "a": cra: iterations must be from 1 to 1000000`},
		{name: "cra keylen over the bound", o: Options{Applications: []Application{{Key: "a", Secret: appSecret,
			CRA: &SaltParams{Salt: "s", KeyLen: MaxKeyLen + 1}}}},
			want: ErrBadApplication, text: `key "a": cra: keylen must be from 1 to 64`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.o)
			if tt.want == nil && tt.text == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err %v, want %v containing %q", err, tt.want, tt.text)
			}
			if strings.Contains(err.Error(), appSecret.Reveal()) {
				t.Fatal("error holds the secret")
			}
		})
	}
}

func TestPolicyLookup(t *testing.T) {
	p := compile(Permissions{
		RPC: []RPCRule{{URI: "", Prefix: true, Call: true}, {URI: "a#", Prefix: true}, {URI: "a#b", Prefix: true, Call: true}, {URI: "a#bc", Call: false}},
	})
	// a#bcd is not under the prefix a#b (no boundary after it): a# decides.
	for uri, want := range map[string]bool{"x": true, "a#": false, "a#x": false, "a#b": true, "a#b.c": true, "a#bcd": false, "a#bc": false} {
		if got := p.canCall(uri); got != want {
			t.Errorf("canCall(%q) = %v, want %v", uri, got, want)
		}
	}
}

// TestPrefixBoundaries: a prefix rule covers its URI and what extends it
// past a boundary (/ # ? . :), never a longer word.
func TestPrefixBoundaries(t *testing.T) {
	const app = "http://example.com/app#"
	tests := []struct {
		prefix, uri string
		want        bool
	}{
		{news, news, true},
		{news, news + "letter", false},
		{news, news + "?lang=FR", true},
		{news, news + "/", true},
		{news, news + "/sport", true},
		{news, news + "#top", true},
		{news, news + ".fr", true},
		{news, news + ":42", true},
		{news, news + "-fr", false},
		{news, news + "_fr", false},
		{news, "http://example.com/new", false},
		{news, "http://example.com/", false},
		{news + "/", news + "/", true},
		{news + "/", news + "/sport", true},
		{news + "/", news, false}, // shorter than the prefix
		{app, app, true},
		{app, app + "add", true}, // the prefix ends with a boundary
		{app, "http://example.com/app", false},
		{app, "http://example.com/apple#add", false},
		{"http://example.com/", "http://example.com/anything", true},
		{"urn:calc", "urn:calc:add", true},
		{"urn:calc", "urn:calculator", false},
		{"", "", true},
		{"", "anything", true},
	}
	for _, tt := range tests {
		t.Run(tt.prefix+" "+tt.uri, func(t *testing.T) {
			if got := underPrefix(tt.uri, tt.prefix); got != tt.want {
				t.Fatalf("underPrefix(%q, %q) = %v, want %v", tt.uri, tt.prefix, got, tt.want)
			}
			// The same through compiled rules: RPC on the URI, PubSub on
			// the topic's base (the text before '?').
			p := compile(Permissions{
				RPC:    []RPCRule{{URI: tt.prefix, Prefix: true, Call: true}},
				PubSub: []TopicRule{{URI: tt.prefix, Prefix: true, Sub: true}},
			})
			if got := p.canCall(tt.uri); got != tt.want {
				t.Fatalf("canCall(%q) = %v, want %v", tt.uri, got, tt.want)
			}
			base, _, _ := strings.Cut(tt.uri, "?")
			if got, want := p.canTopic(base, canSub), underPrefix(base, tt.prefix); got != want {
				t.Fatalf("canTopic(%q) = %v, want %v", base, got, want)
			}
		})
	}
}

// TestTopicPrefixBoundary subscribes over a socket: a rule for news lets a
// browser subscribe to news?lang=FR and news/sport, never to newsletter.
func TestTopicPrefixBoundary(t *testing.T) {
	anon := Permissions{
		RPC:    []RPCRule{{URI: whoami, Call: true}},
		PubSub: []TopicRule{{URI: news, Prefix: true, Sub: true}},
	}
	a, _, u := startAuth(t, Options{Applications: testApps(), Anonymous: anon}, router.Options{})
	backend := dial(t, backendURL(u))
	browser := dial(t, u)
	for _, topic := range []string{news + "letter", news + "?lang=FR", news + "/sport"} {
		browser.Send(`[5,"` + topic + `"]`)
	}
	browser.mustResult(whoami)
	if n := a.Stats().DeniedSubscribes; n != 1 {
		t.Fatalf("DeniedSubscribes = %d, want 1 (newsletter)", n)
	}
	backend.Send(`[7,"` + news + `letter","letter"]`)
	backend.Send(`[7,"` + news + `/sport","sport"]`)
	backend.Send(`[7,"` + news + `?lang=FR","fr"]`)
	browser.expectEvent(news+"/sport", "sport")
	browser.expectEvent(news+"?lang=FR", "fr")
}
