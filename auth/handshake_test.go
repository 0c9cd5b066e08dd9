package auth

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// signed signs claims with method and key; tags are added as the tags
// claim when not nil.
func signed(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// claims returns valid claims for user 42 of application1, changed by set.
func claims(set func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": appKey, "sub": "user-42", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"tags": map[string]any{"user": "42"}}
	if set != nil {
		set(c)
	}
	return c
}

// confused builds a token whose header says alg but whose signature is an
// HMAC with the application's secret: the RS256/HS256 confusion attack.
func confused(t testing.TB, alg string) string {
	t.Helper()
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
	tok := signed(t, jwt.SigningMethodHS256, []byte(appSecret.Reveal()), claims(nil))
	parts := strings.Split(tok, ".")
	unsigned := hdr + "." + parts[1]
	sig, err := jwt.SigningMethodHS256.Sign(unsigned, []byte(appSecret.Reveal()))
	if err != nil {
		t.Fatal(err)
	}
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// whoamiOnly lets anonymous sessions call whoami and nothing else.
var whoamiOnly = Permissions{RPC: []RPCRule{{URI: whoami, Call: true}}}

func testApps() []Application {
	return []Application{
		{Key: appKey, Secret: appSecret},
		{Key: "public", Secret: "public-app-secret-0123456789", AuthorizeOpen: true},
	}
}

func TestHandshake(t *testing.T) {
	secret := []byte(appSecret.Reveal())
	good, err := NewToken(appKey, appSecret, "user-42", map[string]string{"user": "42"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		require bool   // RequireCredentials
		query   string // raw query, without '?'
		status  int    // 101 when admitted
		reason  string // the 401 body, exactly
		method  string // the identity when admitted
		bound   string
	}{
		{name: "anonymous, open", query: "", status: 101, method: "anonymous"},
		{name: "anonymous, closed", require: true, query: "", status: 401,
			reason: "credentials required: connect with ?key=...&secret=..., the key of a public application, or ?token=..."},
		{name: "key and secret", require: true, query: "key=application1&secret=" + appSecret.Reveal(), status: 101, method: "key-secret"},
		{name: "wrong secret", require: true, query: "key=application1&secret=B4ajW3P7jfWEYPZsQV8mnteHg97G67uX", status: 401,
			reason: "unknown application key or wrong secret"},
		{name: "wrong secret, open", query: "key=application1&secret=nope", status: 401,
			reason: "unknown application key or wrong secret"},
		{name: "secret of another app", require: true, query: "key=public&secret=" + appSecret.Reveal(), status: 401,
			reason: "unknown application key or wrong secret"},
		{name: "unknown key with secret", require: true, query: "key=nobody&secret=" + appSecret.Reveal(), status: 401,
			reason: "unknown application key or wrong secret"},
		{name: "empty secret", require: true, query: "key=application1&secret=", status: 401,
			reason: "unknown application key or wrong secret"},
		{name: "public key alone", require: true, query: "key=public", status: 101, method: "public-key"},
		{name: "private key alone", require: true, query: "key=application1", status: 401,
			reason: "this application key needs its secret"},
		{name: "unknown key alone", query: "key=nobody", status: 401, reason: "unknown application key"},
		{name: "secret alone", query: "secret=" + appSecret.Reveal(), status: 401, reason: "a secret needs its key"},
		{name: "token", require: true, query: "token=" + good, status: 101, method: "token", bound: "?user=42"},
		{name: "token and key", require: true, query: "token=" + good + "&key=public", status: 401,
			reason: "give either a token or a key, not both"},
		{name: "token without tags", require: true, status: 101, method: "token", bound: "",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "tags") }))},
		{name: "integer tag", require: true, status: 101, method: "token", bound: "?user=42",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["tags"] = map[string]any{"user": 42} }))},
		{name: "expired token", require: true, status: 401, reason: "token expired",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }))},
		{name: "expired within leeway", require: true, status: 101, method: "token", bound: "?user=42",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Second).Unix() }))},
		{name: "not valid yet", require: true, status: 401, reason: "token not valid yet (nbf)",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }))},
		{name: "issued in the future", require: true, status: 401, reason: "token issued in the future (iat)",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() }))},
		{name: "no exp", require: true, status: 401, reason: "token has no expiry (exp)",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "exp") }))},
		{name: "no sub", require: true, status: 401, reason: "token has no subject (sub)",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { delete(c, "sub") }))},
		{name: "forged", require: true, status: 401, reason: "token signature is invalid",
			query: "token=" + signed(t, jwt.SigningMethodHS256, []byte("not-the-secret-0123456789abcdef"), claims(nil))},
		{name: "tampered claims", require: true, status: 401, reason: "token signature is invalid",
			query: "token=" + tamper(t, good)},
		{name: "unknown issuer", require: true, status: 401, reason: "unknown token issuer (iss)",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["iss"] = "nobody" }))},
		{name: "HS384", require: true, status: 401, reason: "token algorithm must be HS256",
			query: "token=" + signed(t, jwt.SigningMethodHS384, secret, claims(nil))},
		{name: "alg none", require: true, status: 401, reason: "token algorithm must be HS256",
			query: "token=" + signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil))},
		{name: "RS256 header, HMAC signature", require: true, status: 401, reason: "token algorithm must be HS256",
			query: "token=" + confused(t, "RS256")},
		{name: "malformed", require: true, query: "token=abc.def", status: 401, reason: "malformed token"},
		{name: "empty token", require: true, query: "token=", status: 401, reason: "malformed token"},
		{name: "too long", require: true, query: "token=" + strings.Repeat("a", MaxTokenLen+1), status: 401,
			reason: "token longer than 4096 bytes"},
		{name: "bad tag key", require: true, status: 401, reason: "token tags: ",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["tags"] = map[string]any{"bad key": "x"} }))},
		{name: "tags not an object", require: true, status: 401, reason: "token tags: ",
			query: "token=" + signed(t, jwt.SigningMethodHS256, secret, claims(func(c jwt.MapClaims) { c["tags"] = []string{"x"} }))},
	}
	servers := map[bool]string{}
	for _, require := range []bool{false, true} {
		_, _, u := startAuth(t, Options{RequireCredentials: require, Applications: testApps(), Anonymous: whoamiOnly}, router.Options{})
		servers[require] = u
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := servers[tt.require]
			path := "/"
			if tt.query != "" {
				path += "?" + tt.query
			}
			r := wstest.RawUpgrade(t, u, wstest.Request{Path: path, Protocols: []string{"wamp"}})
			status, body := r.Code, r.Body
			if status != tt.status {
				t.Fatalf("status %d %q, want %d", status, body, tt.status)
			}
			if strings.Contains(body, appSecret.Reveal()) || strings.Contains(body, "public-app-secret") {
				t.Fatalf("the answer %q holds a secret", body)
			}
			if status != http.StatusSwitchingProtocols {
				if tt.reason == "token tags: " {
					if !strings.HasPrefix(body, tt.reason) {
						t.Fatalf("reason %q, want %q...", body, tt.reason)
					}
				} else if body != tt.reason {
					t.Fatalf("reason %q, want %q", body, tt.reason)
				}
				return
			}
			c := dial(t, u+"?"+tt.query)
			id := c.mustResult(whoami).(map[string]any)
			if id["method"] != tt.method || id["bound"] != tt.bound {
				t.Fatalf("identity %v, want method %s bound %q", id, tt.method, tt.bound)
			}
			uri := id["uri"].(string)
			if strings.Contains(uri, appSecret.Reveal()) || strings.Contains(uri, "eyJ") {
				t.Fatalf("the session's request URI %q holds a credential", uri)
			}
			if strings.Contains(tt.query, "secret=") || strings.Contains(tt.query, "token=") {
				if !strings.Contains(uri, url.QueryEscape(redacted)) {
					t.Fatalf("the session's request URI %q is not redacted", uri)
				}
			}
		})
	}
}

// tamper changes the sub claim of a token without re-signing it.
func tamper(t testing.TB, tok string) string {
	parts := strings.Split(tok, ".")
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	body = []byte(strings.Replace(string(body), `"user":"42"`, `"user":"43"`, 1))
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(body) + "." + parts[2]
}

func TestRefusalsAreCounted(t *testing.T) {
	a, _, u := startAuth(t, Options{RequireCredentials: true, Applications: testApps()}, router.Options{})
	for _, q := range []string{"/", "/?key=x", "/?token=" + url.QueryEscape("a.b.c")} {
		if r := wstest.RawUpgrade(t, u, wstest.Request{Path: q, Protocols: []string{"wamp"}}); r.Code != http.StatusUnauthorized {
			t.Fatalf("%s: status %d", q, r.Code)
		}
	}
	if n := a.Stats().RefusedConnections; n != 3 {
		t.Fatalf("RefusedConnections = %d, want 3", n)
	}
}
