// Package auth authenticates WAMP v1 connections and authorizes what their
// sessions do: application keys and secrets in Gomoob's format, WAMP-CRA
// (docs/protocol.md#wamp-cra), signed connection tokens with bound tags,
// and permissions checked on every CALL, SUBSCRIBE and PUBLISH. It sits above package
// router and plugs into its interfaces; nothing of it runs unless
// installed, so a server without it stays open.
//
//	a, err := auth.New(auth.Options{
//		RequireCredentials: true, // Gomoob's authorizeOpen: false
//		Applications: []auth.Application{{
//			Key: "application1", Secret: "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW",
//		}},
//		Anonymous: auth.Permissions{PubSub: []auth.TopicRule{
//			{URI: "http://example.com/news", Sub: true},
//		}},
//	})
//	if err != nil { ... }
//	srv := router.New(router.Options{
//		RPC:        mux,
//		Extensions: []router.Extension{a.Extension()},
//	})
//
// Extension hands the router a's four parts (its handshake filter, RPC
// middleware, topic handler and session hook), which the router layers in
// a fixed order (router.Extension): the other options may be set in any
// order, before or after.
//
// # Who a session is
//
// At the handshake (Auth.Handshake, before the upgrade) a connection
// presents ?key=&secret= of an application, the key alone of an
// application with AuthorizeOpen, a ?token= an application signed, or
// nothing (anonymous, refused when RequireCredentials). Bad credentials are
// refused with HTTP 401 and a plain reason. Inside the session, WAMP-CRA
// (the procedures ProcAuthReq and ProcAuth, as AutobahnJS 0.8 and
// AutobahnPython 0.8 call them) authenticates a session that opened
// without a secret; AuthTimeout closes one that does not prove a secret
// in time (WAMP-CRA as anonymous proves none). IdentityOf tells handlers
// who a session is.
//
// What each identity may do:
//
//	key and secret, WAMP-CRA with a key   the application's Permissions
//	                                      (nil: AllPermissions)
//	token                                 the application's TokenPermissions
//	                                      (nil: Anonymous), and bound tags
//	public key, anonymous, anonymous CRA  Anonymous (default: nothing)
//
// # WAMP-CRA
//
// authreq(authKey, extra) returns the challenge, a JSON string of
// {authid, authkey, timestamp, sessionid, extra, permissions}, and null for
// a null key (anonymous, allowed unless RequireCredentials). Its
// permissions are always empty ({"rpc":[],"pubsub":[]}): nothing of the
// key's is told before the secret is proven. auth(signature) checks
// base64(HMAC-SHA256(key, challenge)), where key is the secret, or, for an
// application with CRA salt parameters, DeriveKey's base64 PBKDF2 text; only
// then does it return the permissions granted. The server chooses the salt,
// iterations and keylen per application (Application.CRA) and derives each
// key once, in New, so a challenge costs one HMAC; the challenge's
// authextra tells them to the client (docs/protocol.md#wamp-cra), and the
// client's extra (at most MaxExtraLen bytes) is only repeated. Challenges
// are rate-limited per client address (Options.ChallengeRate, a token
// bucket per IPv4 address or IPv6 /64, 100 a second with a burst of 1,000
// by default): over it authreq answers ErrorURIRateLimited and
// Stats.RateLimitedChallenges counts it. A challenge is good for one try within ChallengeTTL;
// a wrong signature answers ErrorURIInvalidSignature after a random delay
// (FailDelay) that no worker waits for (router.Call.Defer), and no new
// challenge is issued until it is answered. The other errors are
// AutobahnPython's: ErrorURIAlreadyAuthenticated,
// ErrorURIAlreadyRequested, ErrorURIAnonymousForbidden,
// ErrorURINoSuchAuthKey, ErrorURINoAuthRequested, and
// protocol.ErrorURIInvalidArgument for arguments of the wrong type.
//
// # Tokens
//
// The rules are docs/protocol.md#tokens and docs/protocol.md#bound-tags;
// token.go's comment says how they are checked, and NewToken signs one.
//
// # Permissions
//
// Rules of Permissions match procedure URIs and topic bases; the most
// specific rule decides, no rule denies. A prefix rule matches on URI
// boundaries (docs/protocol.md#permissions): prefix P matches P itself and
// P followed by one of / # ? . : (or anything, when P itself ends with one
// of them), so a rule for http://example.com/news covers news/sport and
// news?lang=FR but never newsletter. Publications without a base or
// with an empty tag set need Broadcast. Denied calls answer
// protocol.ErrorURINotAuthorized; denied SUBSCRIBE and PUBLISH return
// ErrSubscribeDenied, ErrPublishDenied, ErrBroadcastDenied or ErrBoundTag
// to the router, which drops, counts and logs them. The allowed path
// allocates nothing: a map lookup for exact rules, a scan of the prefix
// rules, longest first.
//
// # Plain tag connections
//
// A plain tag connection (docs/protocol.md#plain-connections) is admitted by
// Handshake like any other. Its URL tags are offered to Auth.Subscribe
// before the upgrade as a subscription without a base: it needs a sub rule
// that matches the empty base (a prefix rule with URI "", as in
// AllPermissions), and a token's bound tags must hold (a missing one is
// added); a refusal answers 403. Each request it sends is checked as a
// publication without a base, so it needs Broadcast, with the identity of
// the application whose metadata.key and metadata.secret it carries
// (Gomoob's authorizeSend; compared like ?secret=, never logged), or, when
// it carries neither, the connection's own if it opened with a key and
// secret or a token; otherwise it is dropped with ErrPlainCredentials or
// ErrBadPlainCredentials. AuthTimeout does not apply: a plain connection
// cannot speak WAMP-CRA.
//
// # Secrets
//
// Secret prints as "[redacted]" everywhere; secrets are compared as
// SHA-256 digests with crypto/subtle (an unknown key costs the same
// comparison), MACs with hmac.Equal. Refusal reasons, CALLERRORs and logs
// never hold a secret, a signature or a token; what the logs and
// CALLERRORs copy from a client (a procedure URI, a key, a token's tag) is
// cut to logval.Max bytes (package internal/logval). Handshake replaces
// the secret and the token in the admitted request's URI (which the
// session keeps) with "[redacted]". Prefer WAMP-CRA or tokens to ?secret=:
// a query string can end up in a proxy's access log.
//
// # Concurrency
//
// An Auth is immutable after New and safe for concurrent use. A session's
// state (identity, pending challenge, timer) lives in its router values;
// its identity is an atomic pointer read without a lock, the rest is
// guarded by a mutex taken only by the WAMP-CRA procedures and the session
// hooks. Handlers receive the router's borrowed bytes: authreq copies what
// it keeps.
package auth
