package auth

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// logBuffer is a bytes.Buffer that a server's goroutines may write to while
// a test reads it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsAreBounded drives every path of the package that logs a value a
// client chose, with values far longer than logval.Max, and checks that
// the log holds each one cut (never whole) and never a secret, a
// signature or a token.
func TestLogsAreBounded(t *testing.T) {
	var logs logBuffer
	o := quickFail(Options{Applications: testApps(), Anonymous: whoamiOnly,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	_, _, u := startAuth(t, o, router.Options{})

	longURI := "urn:x#" + strings.Repeat("u", 4000)
	longKey := strings.Repeat("k", 4000)
	longTag := strings.Repeat("t", 3000)
	badToken := signed(t, jwt.SigningMethodHS256, []byte(appSecret.Reveal()),
		claims(func(c jwt.MapClaims) { c["tags"] = map[string]any{"bad " + longTag: "x"} }))
	wrongSecret := "W" + appSecret.Reveal()[1:]

	for _, q := range []string{"key=" + appKey + "&secret=" + wrongSecret, "token=" + badToken} {
		if r := wstest.RawUpgrade(t, u, wstest.Request{Path: "/?" + q, Protocols: []string{"wamp"}}); r.Code != http.StatusUnauthorized {
			t.Fatalf("%.40s: status %d", q, r.Code)
		}
	}
	c := dial(t, u)
	if uri, desc := c.callError(longURI); uri != protocol.ErrorURINotAuthorized || desc != "not authorized to call "+logval.String(longURI) {
		t.Fatalf("denied call: %s %.200s", uri, desc)
	}
	if _, desc := c.callError(ProcAuthReq, longKey); strings.Contains(desc, longKey) {
		t.Fatalf("unknown key echoed whole: %.200s", desc)
	}
	challenge := c.mustResult(ProcAuthReq, appKey).(string)
	badSig := Sign([]byte(wrongSecret), challenge)
	if uri, _ := c.callError(ProcAuth, badSig); uri != ErrorURIInvalidSignature {
		t.Fatalf("wrong signature: %s", uri)
	}
	goodSig := sign(t, c.mustResult(ProcAuthReq, appKey))
	c.mustResult(ProcAuth, goodSig)
	backend := dial(t, backendURL(u))
	backend.mustResult(whoami)

	got := logs.String()
	for _, want := range []string{"auth: call denied", "auth: connection refused", "auth: WAMP-CRA signature invalid",
		"auth: session authenticated", logval.String(longURI)[:logval.Max]} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %.60q", want)
		}
	}
	for name, never := range map[string]string{"a long URI": longURI, "a long tag": longTag, "a long key": longKey,
		"the secret": appSecret.Reveal(), "a wrong secret": wrongSecret, "a token": badToken,
		"a wrong signature": badSig, "a signature": goodSig} {
		if strings.Contains(got, never) {
			t.Errorf("log holds %s", name)
		}
	}
	for line := range strings.Lines(got) {
		if len(line) > 1024 {
			t.Errorf("log line of %d bytes: %.200s", len(line), line)
		}
	}
}
