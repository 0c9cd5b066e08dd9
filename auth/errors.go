package auth

import "errors"

// Errors of configuration (New) and of authorization. The authorization
// errors are what the TopicHandler middleware returns for a denied
// SUBSCRIBE or PUBLISH, so the router counts and logs the drop with them
// (docs/protocol.md#dropped-messages); denied calls answer a CALLERROR instead
// (ErrorURI*).
var (
	// ErrNoApplications: credentials are required but no application can
	// present any.
	ErrNoApplications = errors.New("auth: credentials required (authorizeOpen: false) but no application is configured")
	// ErrBadApplication: an application's key, secret or permissions are
	// unusable; the error names which.
	ErrBadApplication = errors.New("auth: bad application")
	// ErrSubscribeDenied: no permission rule lets the session subscribe to
	// the topic's base.
	ErrSubscribeDenied = errors.New("auth: subscribe not authorized")
	// ErrPublishDenied: no permission rule lets the session publish to the
	// topic's base.
	ErrPublishDenied = errors.New("auth: publish not authorized")
	// ErrBroadcastDenied: the publication has no base or no tags at all and
	// the session lacks the broadcast permission
	// (docs/protocol.md#permissions).
	ErrBroadcastDenied = errors.New("auth: publication without a base needs the broadcast permission")
	// ErrBoundTag: the topic names a bound tag key (from the session's
	// token) with another value than the session's own.
	ErrBoundTag = errors.New("auth: topic names another value of a tag bound to the session")
	// ErrPlainCredentials: a plain tag connection's request
	// (docs/protocol.md#plain-requests) carries no metadata.key and
	// metadata.secret, and its connection did not open with a key and secret or
	// a token (Gomoob's authorizeSend).
	ErrPlainCredentials = errors.New("auth: a plain request needs metadata.key and metadata.secret of an application")
	// ErrBadPlainCredentials: a plain request's metadata.key and
	// metadata.secret are not those of an application, or not strings.
	ErrBadPlainCredentials = errors.New("auth: unknown application key or wrong secret in a plain request's metadata")
)

// CALLERROR URIs of WAMP-CRA, as AutobahnPython 0.8 answers them
// (docs/protocol.md#wamp-cra). Denied calls answer
// protocol.ErrorURINotAuthorized, bad arguments
// protocol.ErrorURIInvalidArgument.
const (
	ErrorURIAlreadyAuthenticated = "http://api.wamp.ws/error#already-authenticated"
	ErrorURIAlreadyRequested     = "http://api.wamp.ws/error#authentication-already-requested"
	ErrorURIAnonymousForbidden   = "http://api.wamp.ws/error#anonymous-auth-forbidden"
	ErrorURINoSuchAuthKey        = "http://api.wamp.ws/error#no-such-authkey"
	ErrorURINoAuthRequested      = "http://api.wamp.ws/error#no-authentication-requested"
	ErrorURIInvalidSignature     = "http://api.wamp.ws/error#invalid-signature"
)

// ErrorURIRateLimited answers an authreq over Options.ChallengeRate, with
// errorDetails {"retry_after_ms": n}: tagwamp's own, AutobahnPython has no
// such limit (docs/protocol.md#limits).
const ErrorURIRateLimited = "http://tagwamp.dev/error#rate-limited"
