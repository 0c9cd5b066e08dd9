package auth

import (
	"net/http"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// closeAuthTimeout closes a session that did not authenticate in time.
const closeAuthTimeout = protocol.ClosePolicyViolation

// Handshake checks the credentials of an upgrade request
// (router.HandshakeFilter) and attaches the identity they prove to the
// session it opens. The query may carry:
//
//	?key=K&secret=S   an application's key and secret
//	?key=K            the key of an application with AuthorizeOpen
//	?token=T          a connection token signed by an application (token.go)
//	nothing           anonymous, unless RequireCredentials
//
// Bad credentials are refused with 401 and a plain reason, even when
// credentials are not required; the reason never holds the secret, and an
// unknown key and a wrong secret read the same. An admitted request's
// secret and token are replaced by "[redacted]" in its URI and URL.
func (a *Auth) Handshake(r *router.Request) error {
	g, reason := a.admit(r)
	if reason != "" {
		a.stats.refused.Add(1)
		a.log.Info("auth: connection refused", "remote", r.RemoteAddr.String(), "reason", logval.String(reason))
		return &router.HTTPError{Status: http.StatusUnauthorized, Reason: reason}
	}
	r.SetValue(stateKey{}, newState(g, r.ClientIP))
	redactQuery(r)
	return nil
}

// redactQuery replaces the secret and the token in r's URI and URL with
// "[redacted]": the session keeps its Request, and nothing that reads it
// later (a handler, a log line) can leak them.
func redactQuery(r *router.Request) {
	q := r.URL.Query()
	changed := false
	for _, k := range []string{"secret", "token"} {
		if _, ok := q[k]; ok {
			q[k] = []string{redacted}
			changed = true
		}
	}
	if changed {
		r.URL.RawQuery = q.Encode()
		r.URI = r.URL.RequestURI()
	}
}

// admit returns the grant r's credentials prove, or a refusal reason.
func (a *Auth) admit(r *router.Request) (*grant, string) {
	q := r.URL.Query()
	_, hasKey := q["key"]
	_, hasSecret := q["secret"]
	_, hasToken := q["token"]
	switch {
	case hasToken && (hasKey || hasSecret):
		return nil, "give either a token or a key, not both"
	case hasToken:
		return a.verifyToken(q.Get("token"))
	case hasSecret && !hasKey:
		return nil, "a secret needs its key"
	case hasKey && hasSecret:
		ap := a.checkSecret(q.Get("key"), q.Get("secret"))
		if ap == nil {
			return nil, "unknown application key or wrong secret"
		}
		return ap.grant, ""
	case hasKey:
		ap := a.apps[q.Get("key")]
		if ap == nil {
			return nil, "unknown application key"
		}
		if !ap.authorizeOpen {
			return nil, "this application key needs its secret"
		}
		return &grant{id: Identity{Method: PublicKey, Key: ap.key}, pol: a.anon}, ""
	case a.opts.RequireCredentials:
		return nil, "credentials required: connect with ?key=...&secret=..., the key of a public application, or ?token=..."
	}
	return &grant{pol: a.anon}, ""
}

// checkSecret returns the application whose key and secret these are, or
// nil. The secret is compared in constant time even for an unknown key, so
// both answers take as long.
func (a *Auth) checkSecret(key, secret string) *app {
	ap := a.apps[key]
	given := digestOf(secret)
	want := &dummyDigest
	if ap != nil {
		want = &ap.digest
	}
	if ok := want.equal(&given); !ok || ap == nil {
		return nil
	}
	return ap
}

// dummyDigest stands for the secret of an unknown key.
var dummyDigest = digestOf("tagwamp: no such application")
