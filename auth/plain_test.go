package auth

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dialPlain opens a plain tag connection (docs/protocol.md#plain-connections)
// with query q (raw, without '?'), and waits until srv holds want
// subscriptions.
func dialPlain(t testing.TB, srv *router.Server, u, q string, want int64) *wsClient {
	t.Helper()
	c, err := wstest.Open(u+"?"+q, wstest.Options{Protocols: []string{}})
	if err != nil {
		t.Fatalf("plain dial %s: %v", q, err)
	}
	c.T = t
	t.Cleanup(func() { c.Conn.Close() })
	deadline := time.Now().Add(5 * time.Second) // a failure guard
	for srv.Stats().Subscriptions != want {
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d subscriptions, want %d", srv.Stats().Subscriptions, want)
		}
		time.Sleep(time.Millisecond)
	}
	return &wsClient{c}
}

func tagsQuery(tags string) string { return "tags=" + url.QueryEscape(tags) }

var (
	subAll      = []TopicRule{{URI: "", Prefix: true, Sub: true}}
	noBroadcast = Permissions{PubSub: []TopicRule{{URI: "", Prefix: true, Pub: true, Sub: true}}}
	tokenPerms  = Permissions{PubSub: subAll, Broadcast: true}
)

func plainApps() []Application {
	return append(testApps(),
		Application{Key: "nobroadcast", Secret: "nobroadcast-secret-0123456789", Permissions: &noBroadcast},
		Application{Key: "tokens", Secret: "tokens-app-secret-0123456789", TokenPermissions: &tokenPerms})
}

// TestPlainMetadataCredentials checks Gomoob's authorizeSend: a plain
// request of an anonymous connection needs metadata.key and
// metadata.secret of an application with the broadcast permission; what
// is refused is dropped and counted, and the auth timeout leaves plain
// connections alone.
func TestPlainMetadataCredentials(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, srv, u := startAuth(t, Options{Applications: plainApps(), Anonymous: Permissions{PubSub: subAll},
		AuthTimeout: 100 * time.Millisecond, Logger: logger}, router.Options{Logger: logger})
	rcv := dialPlain(t, srv, u, tagsQuery(`{"room":"a"}`), 1)
	pub := dialPlain(t, srv, u, "", 2)
	const wrong = "wrong-secret-that-must-not-leak"
	for _, md := range []string{
		``,
		`,"metadata":{}`,
		`,"metadata":{"key":"application1","secret":"` + wrong + `"}`,
		`,"metadata":{"key":"nosuchapp","secret":"` + wrong + `"}`,
		`,"metadata":{"key":"application1"}`,
		`,"metadata":{"key":"application1","secret":42}`,
		`,"metadata":{"key":"nobroadcast","secret":"nobroadcast-secret-0123456789"}`,
	} {
		pub.Send(`{"message":"denied","tags":{"room":"a"}` + md + `}`)
	}
	pub.Send(`{"message":"allowed","tags":{"room":"a"},"metadata":{"key":"application1","secret":"` + appSecret.Reveal() + `"}}`)
	if got := rcv.Recv(); got != `"allowed"` {
		t.Fatalf("receiver got %s, want only the allowed request", got)
	}
	if n := a.Stats().DeniedPublishes; n != 7 {
		t.Fatalf("DeniedPublishes = %d, want 7", n)
	}
	if n := srv.Stats().DroppedPublishes; n != 7 {
		t.Fatalf("router DroppedPublishes = %d, want 7", n)
	}
	// A WAMP session opened after the plain ones is closed by the auth
	// timeout; the plain ones, whose timers would have fired first, are not.
	w := dial(t, u)
	w.ExpectClose(1008, "authentication timeout")
	pub.Send(`{"message":"still open","tags":{"room":"a"},"metadata":{"key":"application1","secret":"` + appSecret.Reveal() + `"}}`)
	if got := rcv.Recv(); got != `"still open"` {
		t.Fatalf("receiver got %s", got)
	}
	if s := logs.String(); strings.Contains(s, wrong) || strings.Contains(s, appSecret.Reveal()) {
		t.Fatalf("a secret was logged:\n%s", s)
	}
}

// TestPlainConnectionCredentials: a plain connection that opened with a
// key and secret or a token sends without metadata, with its own
// permissions and bound tags.
func TestPlainConnectionCredentials(t *testing.T) {
	a, srv, u := startAuth(t, Options{Applications: plainApps(), Anonymous: Permissions{PubSub: subAll}}, router.Options{})
	rcv := dialPlain(t, srv, u, tagsQuery(`{"user":42}`), 1)
	keyed := dialPlain(t, srv, u, "key=application1&secret="+appSecret.Reveal(), 2)
	keyed.Send(`{"message":"from keyed","tags":{"user":42}}`)
	if got := rcv.Recv(); got != `"from keyed"` {
		t.Fatalf("receiver got %s", got)
	}
	tok, err := NewToken("tokens", "tokens-app-secret-0123456789", "user-42", map[string]string{"user": "42"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The token's bound tag joins its subscription: it receives user=42.
	tokened := dialPlain(t, srv, u, "token="+tok, 3)
	tokened.Send(`{"message":"other user","tags":{"user":"43"}}`) // a bound tag with another value
	tokened.Send(`{"message":"from token","tags":{"user":42}}`)
	if got := rcv.Recv(); got != `"from token"` {
		t.Fatalf("receiver got %s", got)
	}
	keyed.Send(`{"message":"to user 42","tags":{"user":"42"}}`)
	if got := tokened.Recv(); got != `"to user 42"` {
		t.Fatalf("token connection got %s", got)
	}
	if n := a.Stats().DeniedPublishes; n != 1 {
		t.Fatalf("DeniedPublishes = %d, want 1", n)
	}
}

// TestPlainSubscriptionChecked: a plain connection's tag subscription is
// checked before the upgrade like a SUBSCRIBE without a base.
func TestPlainSubscriptionChecked(t *testing.T) {
	tok, err := NewToken(appKey, appSecret, "user-42", map[string]string{"user": "42"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, _, open := startAuth(t, Options{Applications: plainApps(), Anonymous: Permissions{PubSub: subAll},
		RequireCredentials: true}, router.Options{})
	_, _, closed := startAuth(t, Options{Applications: plainApps()}, router.Options{})
	for _, tc := range []struct {
		name, url, query string
		status           int
		reason           string
	}{
		{"anonymous without sub permission", closed, tagsQuery(`{"a":1}`), http.StatusForbidden, "not authorized"},
		{"credentials required", open, tagsQuery(`{"a":1}`), http.StatusUnauthorized, "credentials required"},
		{"token, another bound value", open, "token=" + tok + "&" + tagsQuery(`{"user":"43"}`), http.StatusForbidden, "not authorized"},
		{"token, bound value", open, "token=" + tok + "&" + tagsQuery(`{"user":"42"}`), http.StatusSwitchingProtocols, ""},
		{"key and secret", closed, "key=application1&secret=" + appSecret.Reveal() + "&" + tagsQuery(`{"a":1}`), http.StatusSwitchingProtocols, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := wstest.RawUpgrade(t, tc.url, wstest.Request{Path: "/?" + tc.query})
			if r.Code != tc.status || !strings.Contains(r.Body, tc.reason) {
				t.Fatalf("response %q %q, want %d %q", r.Status, r.Body, tc.status, tc.reason)
			}
		})
	}
}
