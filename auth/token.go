package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tagwamp/tagwamp/tagindex"
)

// Connection tokens (?token=...) are JWTs a backend signs for a browser
// (docs/protocol.md#tokens).
//
// Design: the token's iss claim names an application key, and the token is
// verified with that application's secret, so a backend that has a key and
// a secret needs nothing new to sign tokens (NewToken, or any JWT library).
// Only HS256 is accepted: the algorithm is fixed by the verifier, never
// taken from the token, so "none" and RS256/HS256 confusion are refused.
// exp is required and honoured, nbf and iat when present, each with
// Options.TokenLeeway (default 5s) of clock skew. sub is required. The
// optional tags claim is a JSON object of string or integer values, the
// session's bound tags:
//
//	{"iss": "application1", "sub": "user-42", "exp": 1767225600,
//	 "tags": {"user": "42"}}
//
// Bound tags follow docs/protocol.md#bound-tags: checkBound and withBound
// (middleware.go) apply them to every SUBSCRIBE and PUBLISH.

// MaxTokenLen bounds the token a handshake may carry, in bytes.
const MaxTokenLen = 4096

// tokenClaims are the claims of a connection token.
type tokenClaims struct {
	jwt.RegisteredClaims
	Tags json.RawMessage `json:"tags,omitempty"`
}

// errUnknownIssuer is the key function's error for an iss that names no
// application.
var errUnknownIssuer = errors.New("unknown token issuer")

// verifyToken checks a token and returns the grant it proves, or a
// refusal reason that says what is wrong and never what the secret is.
func (a *Auth) verifyToken(raw string) (*grant, string) {
	if len(raw) > MaxTokenLen {
		return nil, fmt.Sprintf("token longer than %d bytes", MaxTokenLen)
	}
	var claims tokenClaims
	var issuer *app
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(a.opts.TokenLeeway),
		jwt.WithTimeFunc(a.opts.now),
	)
	tok, err := p.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		issuer = a.apps[claims.Issuer]
		if issuer == nil {
			return nil, errUnknownIssuer
		}
		return []byte(issuer.secret.Reveal()), nil
	})
	if err != nil {
		if tok != nil {
			if alg, _ := tok.Header["alg"].(string); alg != jwt.SigningMethodHS256.Alg() {
				return nil, "token algorithm must be HS256"
			}
		}
		return nil, tokenReason(err)
	}
	if claims.Subject == "" {
		return nil, "token has no subject (sub)"
	}
	g := &grant{id: Identity{Method: Token, Key: issuer.key, Subject: claims.Subject}, pol: issuer.tokenPol}
	if len(claims.Tags) > 0 && string(claims.Tags) != "null" {
		set, err := tagindex.ParseJSON(claims.Tags)
		if err != nil {
			return nil, "token tags: " + err.Error()
		}
		g.id.Bound = set
		g.bound = set.Tags()
	}
	return g, ""
}

// tokenReason maps a jwt error to a plain refusal reason.
func tokenReason(err error) string {
	switch {
	case errors.Is(err, errUnknownIssuer):
		return "unknown token issuer (iss)"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "token signature is invalid"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token has no expiry (exp)"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenInvalidClaims), errors.Is(err, jwt.ErrInvalidType):
		return "token claims are invalid"
	}
	return "invalid token"
}

// NewToken signs a connection token for subject, with bound tags, valid
// for ttl from now, as application key with its secret (HS256). It is
// what a Go backend calls; backends in other languages sign the same
// claims with their JWT library (see the package documentation).
func NewToken(key string, secret Secret, subject string, tags map[string]string, ttl time.Duration) (string, error) {
	if key == "" || subject == "" || ttl <= 0 {
		return "", errors.New("auth: NewToken: key, subject and a positive ttl are required")
	}
	if _, err := tagindex.NewSet("", tags); err != nil {
		return "", fmt.Errorf("auth: NewToken: %w", err)
	}
	now := time.Now()
	claims := tokenClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    key,
		Subject:   subject,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	if len(tags) > 0 {
		b, err := json.Marshal(maps.Clone(tags))
		if err != nil {
			return "", fmt.Errorf("auth: NewToken: %w", err)
		}
		claims.Tags = b
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret.Reveal()))
}
