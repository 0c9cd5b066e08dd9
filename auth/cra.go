package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// The WAMP-CRA procedures (docs/protocol.md#wamp-cra). They are always
// callable, whatever the permissions.
const (
	ProcAuthReq = "http://api.wamp.ws/procedure#authreq"
	ProcAuth    = "http://api.wamp.ws/procedure#auth"
)

// Salted key derivation defaults and bounds of Application.CRA
// (docs/protocol.md#wamp-cra). The server chooses them per application,
// never the client, and New derives each key once, so a challenge costs
// one HMAC whatever the iterations; MaxIterations only bounds the work New
// does per application at startup.
const (
	DefaultIterations = 10000
	DefaultKeyLen     = 32
	MaxIterations     = 1_000_000
	MaxKeyLen         = 64
)

// MaxExtraLen bounds authreq's extra, in bytes of JSON: the challenge
// repeats it, so it is signed and sent back (docs/protocol.md#limits).
const MaxExtraLen = 4096

// challenge is a pending WAMP-CRA challenge: good for one auth call before
// it expires.
type challenge struct {
	mac     []byte // the expected HMAC; nil for an anonymous challenge
	grant   *grant // granted on success
	expires time.Time
}

// SaltParams are the PBKDF2 parameters of a salted WAMP-CRA key: salt,
// iterations and keylen, as a challenge's authextra tells them to clients
// (docs/protocol.md#wamp-cra). In Application.CRA they are the server's
// choice for that application; zero Iterations and KeyLen take
// DefaultIterations and DefaultKeyLen.
type SaltParams struct {
	Salt       string `json:"salt" yaml:"salt"`
	Iterations int    `json:"iterations" yaml:"iterations"`
	KeyLen     int    `json:"keylen" yaml:"keylen"`
}

// withDefaults returns p with zero Iterations and KeyLen replaced by the
// defaults, after checking them: a non-empty salt (AutobahnJS derives no
// key from an empty one, AutobahnPython would), Iterations up to
// MaxIterations, KeyLen up to MaxKeyLen.
func (p SaltParams) withDefaults() (SaltParams, error) {
	if p.Iterations == 0 {
		p.Iterations = DefaultIterations
	}
	if p.KeyLen == 0 {
		p.KeyLen = DefaultKeyLen
	}
	switch {
	case p.Salt == "":
		return p, errors.New("salt must not be empty")
	case p.Iterations < 1 || p.Iterations > MaxIterations:
		return p, fmt.Errorf("iterations must be from 1 to %d", MaxIterations)
	case p.KeyLen < 1 || p.KeyLen > MaxKeyLen:
		return p, fmt.Errorf("keylen must be from 1 to %d", MaxKeyLen)
	}
	return p, nil
}

// DeriveKey returns the WAMP-CRA signing key for secret: the secret itself
// without salt, else base64(PBKDF2-HMAC-SHA256(secret, salt, iterations,
// keylen)), the base64 text itself being the key, as AutobahnJS's
// ab.deriveKey and AutobahnPython's WampCraProtocol.deriveKey compute it
// (docs/protocol.md#wamp-cra). Zero Iterations and KeyLen take the
// defaults.
func DeriveKey(secret string, p *SaltParams) ([]byte, error) {
	if p == nil {
		return []byte(secret), nil
	}
	iter, keylen := p.Iterations, p.KeyLen
	if iter == 0 {
		iter = DefaultIterations
	}
	if keylen == 0 {
		keylen = DefaultKeyLen
	}
	dk, err := pbkdf2.Key(sha256.New, secret, []byte(p.Salt), iter, keylen)
	if err != nil {
		return nil, fmt.Errorf("auth: deriving the WAMP-CRA key: %w", err)
	}
	return base64.StdEncoding.AppendEncode(nil, dk), nil
}

// Sign returns the WAMP-CRA signature of challenge with key (a secret, or
// DeriveKey's result): base64(HMAC-SHA256(key, challenge)), what a client
// sends to auth (docs/protocol.md#wamp-cra).
func Sign(key []byte, challenge string) string {
	return base64.StdEncoding.EncodeToString(mac(key, challenge))
}

func mac(key []byte, challenge string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(challenge))
	return h.Sum(nil)
}

// challengeInfo is the challenge a client signs
// (docs/protocol.md#wamp-cra). Extra repeats the client's extra, which
// chooses nothing. AuthExtra holds the application's salt parameters
// (Application.CRA, defaults filled in) when it has them, and is left out
// otherwise: AutobahnPython 0.8's client derives its key from authextra and
// AutobahnJS applications pass authextra to ab.deriveKey, so both follow
// the server's choice.
type challengeInfo struct {
	AuthID      string          `json:"authid"`
	AuthKey     *string         `json:"authkey"`
	Timestamp   string          `json:"timestamp"`
	SessionID   string          `json:"sessionid"`
	Extra       json.RawMessage `json:"extra"`
	Permissions json.RawMessage `json:"permissions"` // always noPermissions
	AuthExtra   *SaltParams     `json:"authextra,omitempty"`
}

// noPermissions is the challenge's permissions field. AutobahnPython 0.8
// puts the key's permissions there, but the challenge is answered before
// the secret is proven, so it would tell anyone who knows a key what the
// key may do; auth returns them once the signature is checked. The field
// stays, empty in AutobahnPython's own shape for "none", for clients that
// read it (docs/protocol.md#wamp-cra).
var noPermissions = json.RawMessage(`{"rpc":[],"pubsub":[]}`)

func callError(uri, desc string) error { return &protocol.Error{URI: uri, Desc: desc} }

// authreq answers http://api.wamp.ws/procedure#authreq(authKey, extra): a
// challenge string for a key, null for anonymous (as AutobahnPython 0.8).
func (a *Auth) authreq(s *router.Session, c *router.Call) (any, error) {
	st := stateOf(s)
	if st == nil {
		return nil, callError(protocol.ErrorURINotAuthorized, "authentication is not available on this session")
	}
	// Every authreq costs a token, whatever it asks: nothing below runs
	// for a client over its rate.
	if a.limiter != nil {
		if ok, retry := a.limiter.allow(st.ip, a.opts.now()); !ok {
			a.stats.challengeLimited.Add(1)
			a.log.Debug("auth: authreq rate limited", "session", s.ID(), "client", st.ip.String())
			return nil, &protocol.Error{URI: ErrorURIRateLimited,
				Desc:    "too many authentication requests from this address: retry later",
				Details: map[string]int64{"retry_after_ms": int64((retry + time.Millisecond - 1) / time.Millisecond)}}
		}
	}
	if len(c.Args) > 2 {
		return nil, callError(protocol.ErrorURIInvalidArgument, "authreq takes (authKey, extra)")
	}
	var key *string
	if len(c.Args) > 0 && !isNull(c.Args[0]) {
		if err := json.Unmarshal(c.Args[0], &key); err != nil {
			return nil, callError(protocol.ErrorURIInvalidArgument, "authentication key must be a string or null")
		}
	}
	extra := json.RawMessage(`{}`)
	if len(c.Args) > 1 && !isNull(c.Args[1]) {
		if t := bytes.TrimSpace(c.Args[1]); len(t) == 0 || t[0] != '{' {
			return nil, callError(protocol.ErrorURIInvalidArgument, "extra must be an object")
		}
		if len(c.Args[1]) > MaxExtraLen {
			return nil, callError(protocol.ErrorURIInvalidArgument, fmt.Sprintf("extra must be at most %d bytes of JSON", MaxExtraLen))
		}
		extra = c.Args[1]
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	now := a.opts.now()
	switch {
	case st.grant.Load().id.Method.Authenticated():
		return nil, callError(ErrorURIAlreadyAuthenticated, "already authenticated")
	case st.failing:
		return nil, callError(ErrorURIAlreadyRequested, "the previous authentication failed and is still being answered")
	case st.pending != nil && now.Before(st.pending.expires):
		return nil, callError(ErrorURIAlreadyRequested, "authentication already requested: answer it with auth")
	}
	st.pending = nil

	ch := &challenge{expires: now.Add(a.opts.ChallengeTTL)}
	if key == nil {
		if a.opts.RequireCredentials {
			return nil, callError(ErrorURIAnonymousForbidden, "authentication as anonymous forbidden")
		}
		ch.grant = &grant{id: Identity{Method: CRAAnonymous}, pol: a.anon}
		st.pending = ch
		return nil, nil
	}
	ap := a.apps[*key]
	if ap == nil {
		return nil, callError(ErrorURINoSuchAuthKey, fmt.Sprintf("authentication key %q does not exist", logval.String(*key)))
	}
	info := challengeInfo{AuthID: crand.Text(), AuthKey: key, Timestamp: now.UTC().Format("2006-01-02T15:04:05Z"),
		SessionID: s.ID(), Extra: extra, Permissions: noPermissions, AuthExtra: ap.craParams}
	text, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("auth: encoding the challenge: %w", err)
	}
	ch.mac = mac(ap.craKey, string(text))
	ch.grant = &grant{id: Identity{Method: CRA, Key: ap.key}, pol: ap.pol}
	st.pending = ch
	return string(text), nil
}

// auth answers http://api.wamp.ws/procedure#auth(signature): the
// permissions granted, or, after a random delay that holds no worker,
// ...error#invalid-signature. The challenge is consumed either way.
func (a *Auth) auth(s *router.Session, c *router.Call) (any, error) {
	st := stateOf(s)
	if st == nil {
		return nil, callError(protocol.ErrorURINotAuthorized, "authentication is not available on this session")
	}
	if len(c.Args) > 1 {
		return nil, callError(protocol.ErrorURIInvalidArgument, "auth takes (signature)")
	}
	var sig *string
	if len(c.Args) > 0 && !isNull(c.Args[0]) {
		if err := json.Unmarshal(c.Args[0], &sig); err != nil {
			return nil, callError(protocol.ErrorURIInvalidArgument, "signature must be a string or null")
		}
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	ch := st.pending
	switch {
	case st.grant.Load().id.Method.Authenticated():
		return nil, callError(ErrorURIAlreadyAuthenticated, "already authenticated")
	case ch == nil:
		return nil, callError(ErrorURINoAuthRequested, "no authentication previously requested")
	}
	st.pending = nil // one try per challenge
	if !a.opts.now().Before(ch.expires) {
		return nil, callError(ErrorURINoAuthRequested, "the authentication challenge expired: request a new one")
	}
	if !signatureOK(ch.mac, sig) {
		a.fail(s, st, c, ch)
		return nil, nil
	}
	st.grant.Store(ch.grant)
	// Only a proven secret stops the auth timeout: an anonymous challenge
	// answered with null (AutobahnJS's ab.launch without a key) succeeds,
	// as AutobahnPython 0.8 answers it, but grants the anonymous
	// permissions and leaves the timer running.
	if !ch.grant.id.Method.Authenticated() {
		a.log.Debug("auth: WAMP-CRA as anonymous", "session", s.ID())
		return ch.grant.pol.perms, nil
	}
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
	a.log.Info("auth: session authenticated", "session", s.ID(), "method", ch.grant.id.Method.String(), "key", ch.grant.id.Key)
	return ch.grant.pol.perms, nil
}

// signatureOK compares a signature with the expected MAC in constant time.
// A challenge for a key wants a base64 string: null or a missing signature
// fails it. An anonymous challenge (mac nil) wants null, and proves
// nothing.
func signatureOK(want []byte, sig *string) bool {
	if want == nil || sig == nil {
		return want == nil && sig == nil
	}
	got, err := base64.StdEncoding.DecodeString(*sig)
	if err != nil {
		return false
	}
	return hmac.Equal(want, got)
}

// fail answers a wrong signature after a random delay, from a timer: no
// worker waits. Until then, authreq is refused, so guessing costs a delay
// per guess. The caller holds st.mu.
func (a *Auth) fail(s *router.Session, st *state, c *router.Call, ch *challenge) {
	a.stats.cra.Add(1)
	a.log.Info("auth: WAMP-CRA signature invalid", "session", s.ID(), "remote", s.RemoteAddr().String(),
		"key", ch.grant.id.Key)
	st.failing = true
	reply := c.Defer()
	d := a.opts.FailDelay/2 + rand.N(a.opts.FailDelay)
	time.AfterFunc(d, func() {
		st.mu.Lock()
		st.failing = false
		st.mu.Unlock()
		reply.Send(nil, callError(ErrorURIInvalidSignature, "signature for authentication request is invalid"))
	})
}

func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }
