package auth

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// MinSecretLen is the shortest application secret New accepts, in bytes.
// A secret is both a password (WAMP-CRA) and an HS256 key (tokens); 16
// bytes of a random secret are 128 bits.
const MinSecretLen = 16

// Application is a client of the server that holds a key and a secret, in
// the format of Gomoob's configuration (key, secret, authorizeOpen).
type Application struct {
	// Key names the application; it is public (browsers may see it).
	Key string
	// Secret authenticates it: ?key=&secret= at the handshake, WAMP-CRA,
	// and the HS256 key of the connection tokens it signs (iss = Key). At
	// least MinSecretLen bytes.
	Secret Secret
	// AuthorizeOpen lets a connection open with the key alone
	// (?key=application1): a public key for browsers. Such a session has
	// the anonymous permissions until it authenticates with WAMP-CRA.
	AuthorizeOpen bool
	// Permissions are granted to sessions that proved the secret (at the
	// handshake or with WAMP-CRA). Nil grants AllPermissions: an
	// application with a secret is a trusted backend unless configured
	// otherwise; a non-nil empty value grants nothing.
	Permissions *Permissions
	// TokenPermissions are granted to sessions opened with a token this
	// application signed. Nil grants Options.Anonymous.
	TokenPermissions *Permissions
	// CRA salts the application's WAMP-CRA key (docs/protocol.md#wamp-cra):
	// the key that signs its challenges is DeriveKey(Secret, CRA), derived
	// once by New, and every challenge's authextra tells clients the salt,
	// iterations and keylen to derive it with. Nil (the default) signs with
	// the secret itself, unsalted. The server chooses these per
	// application; what a client puts in authreq's extra is only repeated
	// in the challenge, never used. Iterations may be up to MaxIterations:
	// the cost is New's, once.
	CRA *SaltParams
}

// Options configure Auth. The zero value is valid and open: anyone may
// connect, as anonymous, with no permission at all, until it
// authenticates; give Applications and Anonymous to make it useful.
type Options struct {
	// RequireCredentials refuses, with HTTP 401 before the upgrade, every
	// connection that does not present ?key=&secret= of an application, the
	// key of an application with AuthorizeOpen, or a valid ?token=. It is
	// Gomoob's global authorizeOpen: false. Default false.
	RequireCredentials bool
	// Applications are the known keys and secrets. Required when
	// RequireCredentials is set (ErrNoApplications).
	Applications []Application
	// Anonymous are the permissions of sessions without credentials, of
	// public-key sessions, and of token sessions whose application has no
	// TokenPermissions. Default: none.
	Anonymous Permissions
	// AuthTimeout closes (1008) a session that has not authenticated
	// within it: one opened anonymously or with a public key that has not
	// completed WAMP-CRA with an application key. WAMP-CRA as anonymous (a
	// null key) does not stop it: it proves nothing. Default 0: off.
	AuthTimeout time.Duration
	// ChallengeTTL is how long a WAMP-CRA challenge may be answered.
	// Default 1 minute.
	ChallengeTTL time.Duration
	// FailDelay is the mean delay before a wrong WAMP-CRA signature is
	// answered; each delay is drawn uniformly from [FailDelay/2,
	// 3*FailDelay/2). No worker waits for it. Default 800ms (AutobahnPython
	// 0.8's mean).
	FailDelay time.Duration
	// TokenLeeway is the clock skew allowed on a token's exp, nbf and iat.
	// Default 5s; a negative value means none.
	TokenLeeway time.Duration
	// ChallengeRate limits WAMP-CRA challenges per client address
	// (router.Request.ClientIP; an IPv6 client by its /64): each authreq
	// call takes a token from the address's bucket of Burst tokens,
	// refilled at PerSecond. Over it, authreq answers ErrorURIRateLimited,
	// with errorDetails {"retry_after_ms": n}, and counts
	// Stats.RateLimitedChallenges. Default 100 per second with a burst of
	// 1,000 (a zero Burst is twice PerSecond); a negative PerSecond turns
	// it off.
	ChallengeRate router.RateLimit
	// Logger receives refusals and authentication failures (never secrets,
	// signatures or tokens). Default: discarded.
	Logger *slog.Logger

	now func() time.Time // tests
}

// Auth authenticates connections and authorizes what their sessions do.
// It is a router.HandshakeFilter, a router.TopicHandler and a
// router.SessionHook, and gives the RPC middleware; Extension bundles all
// four. Safe for concurrent use; immutable after New.
type Auth struct {
	opts    Options
	log     *slog.Logger
	apps    map[string]*app
	anon    *policy
	nobody  *grant       // the grant of a session a did not admit
	backend *grant       // the grant of the backend session (Method Backend)
	limiter *addrLimiter // of authreq; nil when off
	stats   counters
}

// app is an Application, compiled.
type app struct {
	key           string
	secret        Secret
	digest        digest
	authorizeOpen bool
	pol           *policy
	tokenPol      *policy
	grant         *grant      // of a session or plain request that proved the secret
	craKey        []byte      // signs its WAMP-CRA challenges: DeriveKey(secret, craParams)
	craParams     *SaltParams // the challenges' authextra; nil when unsalted
}

// New checks o and compiles its permissions.
func New(o Options) (*Auth, error) {
	if o.ChallengeTTL <= 0 {
		o.ChallengeTTL = time.Minute
	}
	if o.FailDelay <= 0 {
		o.FailDelay = 800 * time.Millisecond
	}
	if o.TokenLeeway == 0 {
		o.TokenLeeway = 5 * time.Second
	} else if o.TokenLeeway < 0 {
		o.TokenLeeway = 0
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.RequireCredentials && len(o.Applications) == 0 {
		return nil, ErrNoApplications
	}
	if err := o.Anonymous.Validate(); err != nil {
		return nil, fmt.Errorf("auth: anonymous permissions: %w", err)
	}
	a := &Auth{opts: o, log: o.Logger, apps: make(map[string]*app, len(o.Applications)), anon: compile(o.Anonymous),
		limiter: newAddrLimiter(o.ChallengeRate)}
	a.nobody = &grant{pol: a.anon}
	a.backend = &grant{id: Identity{Method: Backend}, pol: compile(AllPermissions())}
	for i, ap := range o.Applications {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: applications[%d]: "+format, append([]any{ErrBadApplication, i}, args...)...)
		}
		switch {
		case ap.Key == "":
			return nil, bad("empty key")
		case a.apps[ap.Key] != nil:
			return nil, bad("duplicate key %q", ap.Key)
		case len(ap.Secret) < MinSecretLen:
			return nil, bad("key %q: secret shorter than %d bytes", ap.Key, MinSecretLen)
		}
		c := &app{key: ap.Key, secret: ap.Secret, digest: digestOf(ap.Secret.Reveal()), authorizeOpen: ap.AuthorizeOpen}
		perms := AllPermissions()
		if ap.Permissions != nil {
			perms = *ap.Permissions
		}
		if err := perms.Validate(); err != nil {
			return nil, bad("key %q: permissions: %v", ap.Key, err)
		}
		c.pol = compile(perms)
		c.tokenPol = a.anon
		if ap.TokenPermissions != nil {
			if err := ap.TokenPermissions.Validate(); err != nil {
				return nil, bad("key %q: token permissions: %v", ap.Key, err)
			}
			c.tokenPol = compile(*ap.TokenPermissions)
		}
		c.grant = &grant{id: Identity{Method: KeySecret, Key: c.key}, pol: c.pol}
		if ap.CRA != nil {
			p, err := ap.CRA.withDefaults()
			if err != nil {
				return nil, bad("key %q: cra: %v", ap.Key, err)
			}
			c.craParams = &p
		}
		var err error
		if c.craKey, err = DeriveKey(ap.Secret.Reveal(), c.craParams); err != nil {
			return nil, bad("key %q: cra: %v", ap.Key, err)
		}
		a.apps[ap.Key] = c
	}
	return a, nil
}

// Extension returns a's plug points for router.Options.Extensions: its
// Handshake as the filter, RPC as the RPC middleware, its Subscribe and
// Publish as the topic handler and its session hooks. The router puts each
// in its fixed layer (router.Extension), so the options need no other
// care: the filters, topic handlers and hooks of the options come after
// a's and see what it established (the identity, bound tags, a redacted
// URI), and the options' RPC middleware (a call logger) sees every call,
// the ones a denies or answers itself included. The WAMP-CRA procedures
// are answered even when the options have no RPC handler.
//
//	opts := router.Options{RPC: mux, Extensions: []router.Extension{a.Extension()}}
func (a *Auth) Extension() router.Extension {
	return router.Extension{Filter: a, RPC: a.RPC, Topics: a, Hook: a}
}

// Method says how a session proved who it is.
type Method uint8

// The methods, from none to WAMP-CRA.
const (
	// Anonymous: no credentials.
	Anonymous Method = iota
	// PublicKey: the key of an application with AuthorizeOpen, no secret.
	PublicKey
	// KeySecret: ?key=&secret= at the handshake.
	KeySecret
	// Token: a signed connection token (?token=).
	Token
	// CRA: WAMP-CRA with an application key (docs/protocol.md#wamp-cra).
	CRA
	// CRAAnonymous: WAMP-CRA as anonymous (a null key). It proves
	// nothing: the session has the anonymous permissions and stays subject
	// to the auth timeout.
	CRAAnonymous
	// Backend: the server's own backend session (router.Session.Backend),
	// through which the HTTP API calls procedures. It has every
	// permission: whoever reaches it was admitted by the API's own keys.
	Backend
)

var methodNames = [...]string{"anonymous", "public-key", "key-secret", "token", "wamp-cra", "wamp-cra-anonymous", "backend"}

// String returns the method's name, like "wamp-cra".
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("auth.Method(%d)", uint8(m))
}

// Authenticated reports whether m proved a secret: KeySecret, Token or
// CRA, never Anonymous, PublicKey or CRAAnonymous. The auth timeout waits
// for it, and a session that has it may not authenticate again.
func (m Method) Authenticated() bool { return m == KeySecret || m == Token || m == CRA }

// Identity is who a session is.
type Identity struct {
	// Method is how the session proved it.
	Method Method
	// Key is the application key ("" when anonymous); for a token, its
	// issuer.
	Key string
	// Subject is a token's sub claim.
	Subject string
	// Bound are a token's bound tags: the session may only subscribe and
	// publish to topics whose tags under these keys carry these values.
	Bound tagindex.Set
}

// grant is an identity and what it may do. Immutable.
type grant struct {
	id    Identity
	pol   *policy
	bound []tagindex.Tag // id.Bound's tags, no base
}

// state is a session's authentication state, created at the handshake
// and kept in the session's values under stateKey.
type state struct {
	grant atomic.Pointer[grant]
	ip    netip.Addr // the client's (router.Request.ClientIP), for ChallengeRate

	mu      sync.Mutex // guards the rest
	pending *challenge
	failing bool // a wrong signature's answer is being delayed
	timer   *time.Timer
}

type stateKey struct{}

func newState(g *grant, ip netip.Addr) *state {
	st := &state{ip: ip}
	st.grant.Store(g)
	return st
}

// stateOf returns s's state, or nil when a did not admit s (a's filter
// was not installed).
func stateOf(s *router.Session) *state {
	st, _ := s.Value(stateKey{}).(*state)
	return st
}

// grantOf returns what s may do: anonymous when a did not admit s.
func (a *Auth) grantOf(s *router.Session) *grant {
	if s.Backend() {
		return a.backend
	}
	if st := stateOf(s); st != nil {
		return st.grant.Load()
	}
	return a.nobody
}

// IdentityOf returns who s is, as the Auth that admitted it established;
// the zero Identity (Anonymous) when none did.
func IdentityOf(s *router.Session) Identity {
	if s.Backend() {
		return Identity{Method: Backend}
	}
	if st := stateOf(s); st != nil {
		return st.grant.Load().id
	}
	return Identity{}
}

// SessionOpened starts the auth timeout of a session that has not
// authenticated (router.SessionHook). A plain tag connection gets none: it
// cannot speak WAMP-CRA, and its requests carry their own credentials.
func (a *Auth) SessionOpened(s *router.Session) {
	st := stateOf(s)
	if st == nil {
		st = newState(&grant{pol: a.anon}, s.Request().ClientIP)
		s.SetValue(stateKey{}, st)
	}
	if a.opts.AuthTimeout <= 0 || s.Plain() || st.grant.Load().id.Method.Authenticated() {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.timer = time.AfterFunc(a.opts.AuthTimeout, func() {
		if st.grant.Load().id.Method.Authenticated() {
			return
		}
		a.stats.authTimeouts.Add(1)
		a.log.Info("auth: closing session: not authenticated in time", "session", s.ID(),
			"remote", s.RemoteAddr().String(), "auth_timeout", a.opts.AuthTimeout)
		s.Close(closeAuthTimeout, "authentication timeout: authenticate with WAMP-CRA within "+a.opts.AuthTimeout.String())
	})
}

// SessionClosed stops the session's auth timeout and forgets its pending
// challenge (router.SessionHook).
func (a *Auth) SessionClosed(s *router.Session) {
	st := stateOf(s)
	if st == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.pending = nil
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
}

// Stats counts refusals and denials since New.
type Stats struct {
	RefusedConnections uint64 // upgrades refused with 401
	DeniedCalls        uint64 // CALLs answered not-authorized
	DeniedSubscribes   uint64 // SUBSCRIBEs dropped
	DeniedPublishes    uint64 // PUBLISHes dropped
	FailedCRA          uint64 // wrong WAMP-CRA signatures
	AuthTimeouts       uint64 // sessions closed by AuthTimeout
	// RateLimitedChallenges counts authreq calls refused by
	// Options.ChallengeRate.
	RateLimitedChallenges uint64
}

type counters struct {
	refused, calls, subs, pubs, cra, authTimeouts, challengeLimited atomic.Uint64
}

// Stats returns a snapshot of a's counters.
func (a *Auth) Stats() Stats {
	c := &a.stats
	return Stats{
		RefusedConnections: c.refused.Load(),
		DeniedCalls:        c.calls.Load(),
		DeniedSubscribes:   c.subs.Load(),
		DeniedPublishes:    c.pubs.Load(),
		FailedCRA:          c.cra.Load(),
		AuthTimeouts:       c.authTimeouts.Load(),

		RateLimitedChallenges: c.challengeLimited.Load(),
	}
}
