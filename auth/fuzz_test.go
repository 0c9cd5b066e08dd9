package auth

import (
	"strings"
	"testing"
	"time"
)

// FuzzVerifyToken feeds arbitrary text to the token verifier: it must never
// panic, must admit only a token signed with the application's secret
// (which random input cannot forge), and its refusal reason must never hold
// the secret. Seeds: testdata/fuzz/FuzzVerifyToken.
func FuzzVerifyToken(f *testing.F) {
	a, err := New(Options{Applications: testApps()})
	if err != nil {
		f.Fatal(err)
	}
	good, err := NewToken(appKey, appSecret, "user-42", map[string]string{"user": "42"}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Fuzz(func(t *testing.T, tok string) {
		g, reason := a.verifyToken(tok)
		if strings.Contains(reason, appSecret.Reveal()) {
			t.Fatalf("reason %q holds the secret", reason)
		}
		if g == nil && reason == "" || g != nil && reason != "" {
			t.Fatalf("grant %v with reason %q", g, reason)
		}
		if g != nil && (g.id.Method != Token || g.id.Subject == "" || g.id.Key == "") {
			t.Fatalf("admitted %q as %+v", tok, g.id)
		}
	})
}
