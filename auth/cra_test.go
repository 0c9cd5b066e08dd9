package auth

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// Vectors computed outside Go: node's crypto.pbkdf2Sync and createHmac, and
// Python's hashlib.pbkdf2_hmac and hmac, which agree; the first is RFC
// 7914's PBKDF2-HMAC-SHA256 vector. AutobahnJS's ab.deriveKey
// (CryptoJS.PBKDF2, keySize keylen/4 words, .toString(Base64)) and
// AutobahnPython's deriveKey (pbkdf2_bin, b2a_base64) compute the same
// base64 text, which then is the HMAC key, as docs/protocol.md#wamp-cra
// says.
func TestDeriveKeyAndSignVectors(t *testing.T) {
	rfc, _ := hex.DecodeString("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")
	const challenge = `{"authid":"X","authkey":"application1"}`
	tests := []struct {
		name    string
		secret  string
		salt    *SaltParams
		wantKey string
		wantSig string // of challenge
	}{
		{name: "RFC 7914", secret: "password", salt: &SaltParams{Salt: "salt", Iterations: 1, KeyLen: 32},
			wantKey: base64.StdEncoding.EncodeToString(rfc)},
		{name: "no salt", secret: appSecret.Reveal(), wantKey: appSecret.Reveal(),
			wantSig: "ZxCGdsJApJSf9zBOQOd2rUoZQxI5GITwB4iZwoCCv+I="},
		{name: "salt, defaults", secret: appSecret.Reveal(), salt: &SaltParams{Salt: "salt123"},
			wantKey: "Qd55B0iRqtjODVSCnw0Uw3YJMmDRSvuHkczlDvR1hvk=",
			wantSig: "r4BwpLl/xSuznTwFeNXK2a6PJVEOwyWjCbEoEoHYjqQ="},
		{name: "salt, 100 iterations, 16 bytes", secret: appSecret.Reveal(),
			salt: &SaltParams{Salt: "salt123", Iterations: 100, KeyLen: 16}, wantKey: "9j3hBe5TKFYw/OTKoO56/w=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := DeriveKey(tt.secret, tt.salt)
			if err != nil {
				t.Fatal(err)
			}
			if string(key) != tt.wantKey {
				t.Fatalf("key %s, want %s", key, tt.wantKey)
			}
			if tt.wantSig != "" {
				if sig := Sign(key, challenge); sig != tt.wantSig {
					t.Fatalf("signature %s, want %s", sig, tt.wantSig)
				}
			}
		})
	}
}

// autobahnSign signs a challenge the way an AutobahnJS 0.8 application
// does, written here from the spec (docs/protocol.md#wamp-cra) with the
// standard library alone: key = ab.deriveKey(secret, authextra), then
// base64(HMAC-SHA256(key, challenge)).
func autobahnSign(t testing.TB, secret, challenge string) string {
	t.Helper()
	var c struct {
		AuthExtra *struct {
			Salt       string `json:"salt"`
			Iterations int    `json:"iterations"`
			KeyLen     int    `json:"keylen"`
		} `json:"authextra"`
	}
	if err := json.Unmarshal([]byte(challenge), &c); err != nil {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	key := []byte(secret)
	if e := c.AuthExtra; e != nil {
		dk, err := pbkdf2.Key(sha256.New, secret, []byte(e.Salt), e.Iterations, e.KeyLen)
		if err != nil {
			t.Fatal(err)
		}
		key = []byte(base64.StdEncoding.EncodeToString(dk))
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte(challenge))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func TestCRAHandshake(t *testing.T) {
	appPerms := Permissions{
		RPC:    []RPCRule{{URI: "urn:app#", Prefix: true, Call: true}, {URI: whoami, Call: true}},
		PubSub: []TopicRule{{URI: "urn:news", Sub: true, Pub: true}},
	}
	// The server chooses each application's salt parameters.
	apps := []Application{
		{Key: appKey, Secret: appSecret, AuthorizeOpen: true, Permissions: &appPerms},
		{Key: "salted", Secret: appSecret, AuthorizeOpen: true, Permissions: &appPerms,
			CRA: &SaltParams{Salt: "salt123"}},
		{Key: "peppered", Secret: appSecret, AuthorizeOpen: true, Permissions: &appPerms,
			CRA: &SaltParams{Salt: "pepper", Iterations: 100, KeyLen: 16}},
	}
	_, _, u := startAuth(t, Options{RequireCredentials: true, Applications: apps, Anonymous: whoamiOnly}, router.Options{})
	// A client's salt parameters are repeated in extra and used for nothing.
	costly := map[string]any{"salt": "evil", "iterations": 1 << 30, "keylen": 1 << 20}
	tests := []struct {
		name  string
		key   string
		extra any // authreq's second argument; nil sends none
		salt  *SaltParams
	}{
		{name: "unsalted, no extra", key: appKey},
		{name: "unsalted, extra without salt", key: appKey, extra: map[string]any{"client": "test"}},
		{name: "unsalted, client salt ignored", key: appKey, extra: costly},
		{name: "salt with defaults", key: "salted", salt: &SaltParams{Salt: "salt123", Iterations: 10000, KeyLen: 32}},
		{name: "salt with parameters", key: "peppered", salt: &SaltParams{Salt: "pepper", Iterations: 100, KeyLen: 16}},
		{name: "server salt, client salt ignored", key: "peppered", extra: costly,
			salt: &SaltParams{Salt: "pepper", Iterations: 100, KeyLen: 16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, u+"?key="+tt.key) // a public key: anonymous until CRA
			if uri, _ := c.callError("urn:app#x"); uri != protocol.ErrorURINotAuthorized {
				t.Fatalf("before CRA: %s", uri)
			}
			args := []any{tt.key}
			if tt.extra != nil {
				args = append(args, tt.extra)
			}
			challenge, ok := c.mustResult(ProcAuthReq, args...).(string)
			if !ok {
				t.Fatal("authreq did not return a string")
			}
			var info map[string]json.RawMessage
			if err := json.Unmarshal([]byte(challenge), &info); err != nil {
				t.Fatalf("challenge %q is not a JSON object: %v", challenge, err)
			}
			checkChallenge(t, info, c.SessionID, tt.key, tt.extra, tt.salt)

			checkPerms(t, c.mustResult(ProcAuth, autobahnSign(t, appSecret.Reveal(), challenge)), appPerms)
			if id := c.mustResult(whoami).(map[string]any); id["method"] != "wamp-cra" || id["key"] != tt.key {
				t.Fatalf("identity after CRA %v", id)
			}
			if r := c.mustResult("urn:app#x"); r != "ok:urn:app#x" {
				t.Fatalf("after CRA: %v", r)
			}
			if uri, desc := c.callError(ProcAuthReq, tt.key); uri != ErrorURIAlreadyAuthenticated || desc != "already authenticated" {
				t.Fatalf("authreq after CRA: %s %s", uri, desc)
			}
			if uri, _ := c.callError(ProcAuth, "x"); uri != ErrorURIAlreadyAuthenticated {
				t.Fatalf("auth after CRA: %s", uri)
			}
		})
	}
}

var timestampRE = regexp.MustCompile(`^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"$`)

// checkChallenge checks the fields of a challenge for key
// (docs/protocol.md#wamp-cra).
func checkChallenge(t *testing.T, info map[string]json.RawMessage, sid, key string, extra any, salt *SaltParams) {
	t.Helper()
	for _, k := range []string{"authid", "authkey", "timestamp", "sessionid", "extra", "permissions"} {
		if _, ok := info[k]; !ok {
			t.Fatalf("challenge lacks %s: %v", k, info)
		}
	}
	var authid string
	if json.Unmarshal(info["authid"], &authid) != nil || len(authid) < 16 {
		t.Fatalf("authid %s", info["authid"])
	}
	if string(info["authkey"]) != `"`+key+`"` || string(info["sessionid"]) != `"`+sid+`"` {
		t.Fatalf("authkey %s sessionid %s", info["authkey"], info["sessionid"])
	}
	if !timestampRE.Match(info["timestamp"]) {
		t.Fatalf("timestamp %s", info["timestamp"])
	}
	// The permissions come from auth, once the secret is proven.
	if string(info["permissions"]) != `{"rpc":[],"pubsub":[]}` {
		t.Fatalf("the challenge carries permissions %s", info["permissions"])
	}
	wantExtra := []byte("{}")
	if extra != nil {
		wantExtra, _ = json.Marshal(extra)
	}
	if string(info["extra"]) != string(wantExtra) {
		t.Fatalf("extra %s, want %s", info["extra"], wantExtra)
	}
	ae, ok := info["authextra"]
	if (salt != nil) != ok {
		t.Fatalf("authextra %s, want salt %v", ae, salt)
	}
	if salt != nil {
		want, _ := json.Marshal(salt)
		if string(ae) != string(want) {
			t.Fatalf("authextra %s, want %s", ae, want)
		}
	}
}

// clock is a settable time source for Options.now.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }
func quickFail(o Options) Options        { o.FailDelay = time.Millisecond; return o }
func sign(t testing.TB, challenge any) string {
	return autobahnSign(t, appSecret.Reveal(), challenge.(string))
}

func TestCRAErrors(t *testing.T) {
	var clk clock
	o := quickFail(Options{Applications: testApps(), Anonymous: whoamiOnly, ChallengeTTL: time.Minute})
	o.now = clk.now
	_, _, u := startAuth(t, o, router.Options{})
	c := dial(t, u)

	steps := []struct {
		name     string
		proc     string
		args     []any
		wantURI  string // "" for a result
		wantDesc string // checked when not empty
		before   func() // run before the call
		signArg  bool   // replace args with the signature of the last challenge
	}{
		{name: "auth without authreq", proc: ProcAuth, args: []any{"x"}, wantURI: ErrorURINoAuthRequested,
			wantDesc: "no authentication previously requested"},
		{name: "unknown key", proc: ProcAuthReq, args: []any{"nobody"}, wantURI: ErrorURINoSuchAuthKey,
			wantDesc: `authentication key "nobody" does not exist`},
		{name: "key not a string", proc: ProcAuthReq, args: []any{42}, wantURI: protocol.ErrorURIInvalidArgument,
			wantDesc: "authentication key must be a string or null"},
		{name: "extra not an object", proc: ProcAuthReq, args: []any{appKey, "x"}, wantURI: protocol.ErrorURIInvalidArgument,
			wantDesc: "extra must be an object"},
		{name: "extra too long", proc: ProcAuthReq, args: []any{appKey, map[string]any{"x": strings.Repeat("x", MaxExtraLen)}},
			wantURI: protocol.ErrorURIInvalidArgument, wantDesc: "extra must be at most 4096 bytes of JSON"},
		{name: "too many arguments", proc: ProcAuthReq, args: []any{appKey, nil, 3}, wantURI: protocol.ErrorURIInvalidArgument},
		{name: "authreq", proc: ProcAuthReq, args: []any{appKey}},
		{name: "authreq again", proc: ProcAuthReq, args: []any{appKey}, wantURI: ErrorURIAlreadyRequested},
		{name: "signature not a string", proc: ProcAuth, args: []any{42}, wantURI: protocol.ErrorURIInvalidArgument,
			wantDesc: "signature must be a string or null"},
		{name: "wrong signature", proc: ProcAuth, args: []any{"AAAA"}, wantURI: ErrorURIInvalidSignature,
			wantDesc: "signature for authentication request is invalid"},
		{name: "right signature, second try", proc: ProcAuth, signArg: true, wantURI: ErrorURINoAuthRequested},
		{name: "authreq after a failure", proc: ProcAuthReq, args: []any{appKey}},
		{name: "signature not base64", proc: ProcAuth, args: []any{"%%%"}, wantURI: ErrorURIInvalidSignature},
		{name: "authreq 3", proc: ProcAuthReq, args: []any{appKey}},
		{name: "null signature for a key", proc: ProcAuth, args: []any{nil}, wantURI: ErrorURIInvalidSignature},
		{name: "authreq 4", proc: ProcAuthReq, args: []any{appKey}},
		{name: "expired challenge", proc: ProcAuth, signArg: true, before: func() { clk.advance(time.Minute + time.Second) },
			wantURI: ErrorURINoAuthRequested, wantDesc: "the authentication challenge expired: request a new one"},
		{name: "authreq 5", proc: ProcAuthReq, args: []any{appKey}},
		{name: "an expired challenge does not block authreq", proc: ProcAuthReq, args: []any{appKey},
			before: func() { clk.advance(time.Minute + time.Second) }},
		{name: "auth", proc: ProcAuth, signArg: true},
		{name: "authreq once authenticated", proc: ProcAuthReq, args: []any{appKey}, wantURI: ErrorURIAlreadyAuthenticated},
	}
	var last any
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		args := st.args
		if st.signArg {
			args = []any{sign(t, last)}
		}
		r := c.call(st.name, st.proc, args...)
		if st.wantURI == "" {
			if r[0] != float64(3) {
				t.Fatalf("%s: %v", st.name, r)
			}
			if st.proc == ProcAuthReq {
				last = r[2]
			}
			continue
		}
		if r[0] != float64(4) || r[2] != st.wantURI || (st.wantDesc != "" && r[3] != st.wantDesc) {
			t.Fatalf("%s: got %v, want %s %q", st.name, r, st.wantURI, st.wantDesc)
		}
	}
}

func TestCRAAnonymous(t *testing.T) {
	open := quickFail(Options{Applications: testApps(), Anonymous: whoamiOnly})
	_, _, u := startAuth(t, open, router.Options{})

	c := dial(t, u)
	if r := c.mustResult(ProcAuthReq, nil); r != nil {
		t.Fatalf("anonymous authreq returned %v, want null", r)
	}
	checkPerms(t, c.mustResult(ProcAuth, nil), whoamiOnly)
	if id := c.mustResult(whoami).(map[string]any); id["method"] != "wamp-cra-anonymous" {
		t.Fatalf("identity %v", id)
	}
	// Anonymous CRA proved nothing: the session may still authenticate
	// with a key.
	checkPerms(t, c.mustResult(ProcAuth, sign(t, c.mustResult(ProcAuthReq, appKey))), AllPermissions())
	if id := c.mustResult(whoami).(map[string]any); id["method"] != "wamp-cra" || id["key"] != appKey {
		t.Fatalf("identity after CRA with a key %v", id)
	}

	c2 := dial(t, u)
	c2.mustResult(ProcAuthReq) // no arguments at all: anonymous too
	if uri, _ := c2.callError(ProcAuth, "c2lnbmF0dXJl"); uri != ErrorURIInvalidSignature {
		t.Fatalf("anonymous challenge with a signature: %s", uri)
	}

	closed := quickFail(Options{RequireCredentials: true, Applications: testApps(), Anonymous: whoamiOnly})
	_, _, u = startAuth(t, closed, router.Options{})
	c3 := dial(t, u+"?key=public")
	if uri, desc := c3.callError(ProcAuthReq, nil); uri != ErrorURIAnonymousForbidden || desc != "authentication as anonymous forbidden" {
		t.Fatalf("anonymous authreq with credentials required: %s %s", uri, desc)
	}
}

// A wrong signature is answered late, from a timer: the only worker keeps
// serving the session meanwhile, and authreq is refused until the answer.
func TestCRAFailureHoldsNoWorker(t *testing.T) {
	a, _, u := startAuth(t, Options{Applications: testApps(), Anonymous: whoamiOnly, FailDelay: time.Second},
		router.Options{Workers: 1})
	c := dial(t, u)
	c.mustResult(ProcAuthReq, appKey)
	c.Send(`[2,"bad","` + ProcAuth + `","AAAA"]`)
	c.Send(`[2,"again","` + ProcAuthReq + `","` + appKey + `"]`)
	c.Send(`[2,"who","` + whoami + `"]`)
	var r []any
	c.RecvJSON(&r)
	if r[1] != "again" || r[2] != ErrorURIAlreadyRequested {
		t.Fatalf("first answer %v, want authreq refused while the failure is pending", r)
	}
	c.RecvJSON(&r)
	if r[1] != "who" || r[0] != float64(3) {
		t.Fatalf("second answer %v, want whoami's result", r)
	}
	c.RecvJSON(&r)
	if r[1] != "bad" || r[2] != ErrorURIInvalidSignature {
		t.Fatalf("third answer %v, want the delayed invalid-signature", r)
	}
	c.mustResult(ProcAuthReq, appKey) // allowed again
	if n := a.Stats().FailedCRA; n != 1 {
		t.Fatalf("FailedCRA = %d", n)
	}
}

func TestAuthTimeout(t *testing.T) {
	a, _, u := startAuth(t, Options{Applications: testApps(), Anonymous: whoamiOnly, AuthTimeout: 300 * time.Millisecond},
		router.Options{})
	backend := dial(t, u+"?key="+appKey+"&secret="+appSecret.Reveal()) // authenticated at the handshake
	viaCRA := dial(t, u+"?key=public")
	viaCRA.mustResult(ProcAuth, autobahnSign(t, "public-app-secret-0123456789", viaCRA.mustResult(ProcAuthReq, "public").(string)))
	// authreq(null) + auth(null) succeeds, as anonymous, and proves
	// nothing: the timer keeps running (the bypass of issue 9).
	anonCRA := dial(t, u)
	if r := anonCRA.mustResult(ProcAuthReq, nil); r != nil {
		t.Fatalf("anonymous authreq returned %v", r)
	}
	anonCRA.mustResult(ProcAuth, nil)
	late := dial(t, u)
	late.ExpectClose(ws.StatusPolicyViolation, "authentication timeout: authenticate with WAMP-CRA within 300ms")
	anonCRA.ExpectClose(ws.StatusPolicyViolation, "authentication timeout: authenticate with WAMP-CRA within 300ms")
	// late opened after the others, so their timers would have fired by
	// now: both are still served.
	backend.mustResult(whoami)
	viaCRA.mustResult(whoami)
	if n := a.Stats().AuthTimeouts; n != 2 {
		t.Fatalf("AuthTimeouts = %d, want 2", n)
	}
}

// TestAnonymousCRAProvesNothing: whatever a session sends as its key or
// signature, a null or absent key never yields more than the anonymous
// permissions, and only a string signature can answer a key's challenge.
func TestAnonymousCRAProvesNothing(t *testing.T) {
	o := quickFail(Options{Applications: testApps(), Anonymous: whoamiOnly})
	_, _, u := startAuth(t, o, router.Options{})
	tests := []struct {
		name    string
		key     []any // authreq's arguments
		sig     []any // auth's arguments
		wantURI string
		method  string // the identity after auth
	}{
		{name: "null key, null signature", key: []any{nil}, sig: []any{nil}, method: "wamp-cra-anonymous"},
		{name: "no key, no signature", sig: []any{}, method: "wamp-cra-anonymous"},
		{name: "null key, a signature", key: []any{nil}, sig: []any{Sign([]byte(appSecret), "x")},
			wantURI: ErrorURIInvalidSignature, method: "anonymous"},
		{name: "null key, a number", key: []any{nil}, sig: []any{0}, wantURI: protocol.ErrorURIInvalidArgument, method: "anonymous"},
		{name: "key, null signature", key: []any{appKey}, sig: []any{nil}, wantURI: ErrorURIInvalidSignature, method: "anonymous"},
		{name: "key, no signature", key: []any{appKey}, sig: []any{}, wantURI: ErrorURIInvalidSignature, method: "anonymous"},
		{name: "key, a number", key: []any{appKey}, sig: []any{1}, wantURI: protocol.ErrorURIInvalidArgument, method: "anonymous"},
		{name: "key, an object", key: []any{appKey}, sig: []any{map[string]any{}}, wantURI: protocol.ErrorURIInvalidArgument,
			method: "anonymous"},
		{name: "key, true", key: []any{appKey}, sig: []any{true}, wantURI: protocol.ErrorURIInvalidArgument, method: "anonymous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, u)
			c.mustResult(ProcAuthReq, tt.key...)
			r := c.call("auth", ProcAuth, tt.sig...)
			switch {
			case tt.wantURI == "" && r[0] != float64(3):
				t.Fatalf("auth answered %v", r)
			case tt.wantURI != "" && (r[0] != float64(4) || r[2] != tt.wantURI):
				t.Fatalf("auth answered %v, want %s", r, tt.wantURI)
			}
			if tt.wantURI == "" {
				checkPerms(t, r[2], whoamiOnly)
			}
			if id := c.mustResult(whoami).(map[string]any); id["method"] != tt.method || id["key"] != "" {
				t.Fatalf("identity %v, want %s without a key", id, tt.method)
			}
			if uri, _ := c.callError("urn:app#x"); uri != protocol.ErrorURINotAuthorized {
				t.Fatalf("call after auth: %s", uri)
			}
		})
	}
}

// checkPerms checks that a CALLRESULT holds want, in the wire shape of
// docs/protocol.md#wamp-cra.
func checkPerms(t *testing.T, got any, want Permissions) {
	t.Helper()
	b, _ := json.Marshal(got)
	var p Permissions
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("permissions %s: %v", b, err)
	}
	if !reflect.DeepEqual(p, compile(want).perms) {
		t.Fatalf("permissions %s, want %+v", b, want)
	}
	var keys map[string]any
	json.Unmarshal(b, &keys)
	if _, ok := keys["rpc"]; !ok {
		t.Fatalf("permissions %s lack rpc", b)
	}
	if _, ok := keys["pubsub"]; !ok {
		t.Fatalf("permissions %s lack pubsub", b)
	}
}
