package forward

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Options configure a Forwarder. The zero value forwards nothing and asks
// no hook: every field documents its default and how to turn it off.
type Options struct {
	// Routes forward the CALLs whose procedure URI starts with their
	// Prefix, the longest matching prefix winning; other calls go on to the
	// next RPC handler. Default none.
	Routes []Route

	// SubscribeHook, when not nil, is asked about every SUBSCRIBE (and
	// every plain tag connection's tags) that the topic handlers before it
	// allowed. Default nil: no hook.
	SubscribeHook *Hook

	// ConnectHook, when not nil, is asked about every upgrade request that
	// the handshake filters before it admitted. Default nil: no hook.
	ConnectHook *Hook

	// MaxResponseBytes bounds the body of a backend's answer, for routes
	// and hooks alike; a longer one is a failure (a CALL answers
	// http://api.wamp.ws/error#internal, a hook applies its OnError).
	// Default 1 MiB.
	MaxResponseBytes int64

	// Observer, when not nil, is told the outcome and the round trip of
	// every forwarded call (see Observer). Default nil.
	Observer Observer

	// Logger receives the failures of backends and hooks; what it logs of
	// a backend's body is cut to logval.Max bytes. Headers are never
	// logged. Default: discarded.
	Logger *slog.Logger
}

// Route forwards the CALLs under one prefix to one HTTP service.
type Route struct {
	// Name names the backend in logs and in the busy CALLERROR's
	// description. Default Prefix.
	Name string
	// Prefix selects the calls, as handlers.Mux's prefixes do: every
	// procedure URI that starts with it, like "http://example.com/app#".
	// Required, and unique among Routes.
	Prefix string
	// URL is the http or https URL each call is POSTed to. Required.
	URL string
	// Timeout bounds one call's request, from the CALL to the last byte of
	// the answer; past it the call answers
	// http://api.wamp.ws/error#timeout. The router's CallTimeout bounds it
	// too when it is shorter. Default 5s.
	Timeout time.Duration
	// MaxInFlight bounds the requests this route has running at once, and
	// its connections to the service; a CALL past it answers at once with
	// http://tagwamp.dev/error#busy rather than waiting. Default 256.
	MaxInFlight int
	// Header holds extra request headers (an Authorization the service
	// checks, say). Never logged. Default none.
	Header http.Header
}

// Hook is an HTTP service asked for a yes or no (see the package doc).
type Hook struct {
	// URL is the http or https URL the question is POSTed to. Required.
	URL string
	// Timeout bounds one question, from the request to the last byte of
	// the answer; past it the hook has failed. Default 2s.
	Timeout time.Duration
	// OnError is what a failed question (a timeout, an unreachable
	// service, a status other than 2xx, an answer that is not
	// {"allow": true|false, ...}, MaxInFlight questions already running)
	// decides. Default Refuse.
	OnError OnError
	// MaxInFlight bounds the questions running at once, and the
	// connections to the service. Default 256.
	MaxInFlight int
	// Header holds extra request headers. Never logged. Default none.
	Header http.Header
}

// OnError is what a hook's failure decides.
type OnError uint8

const (
	// Refuse refuses what was asked about: a connection answers 503, a
	// SUBSCRIBE is dropped. Fail closed: the default.
	Refuse OnError = iota
	// Allow admits it, as if the hook had allowed it without tags.
	Allow
)

// String returns "refuse" or "allow", the names the configuration file
// uses.
func (o OnError) String() string {
	if o == Allow {
		return "allow"
	}
	return "refuse"
}

// Defaults; see Options, Route and Hook.
const (
	DefaultTimeout          = 5 * time.Second
	DefaultHookTimeout      = 2 * time.Second
	DefaultMaxInFlight      = 256
	DefaultMaxResponseBytes = 1 << 20
)

// check returns every problem of o, each naming its field, wrapped with
// ErrOptions.
func (o *Options) check() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: "+format, append([]any{ErrOptions, field}, args...)...))
	}
	seen := make(map[string]bool, len(o.Routes))
	for i, r := range o.Routes {
		f := fmt.Sprintf("Routes[%d]", i)
		switch {
		case r.Prefix == "":
			bad(f+".Prefix", "must not be empty")
		case seen[r.Prefix]:
			bad(f+".Prefix", "duplicate prefix %q", r.Prefix)
		}
		seen[r.Prefix] = true
		if err := CheckURL(r.URL); err != nil {
			bad(f+".URL", "%v", err)
		}
		if r.Timeout < 0 || r.MaxInFlight < 0 {
			bad(f, "Timeout and MaxInFlight must not be negative")
		}
	}
	for _, h := range []struct {
		field string
		h     *Hook
	}{{"SubscribeHook", o.SubscribeHook}, {"ConnectHook", o.ConnectHook}} {
		if h.h == nil {
			continue
		}
		if err := CheckURL(h.h.URL); err != nil {
			bad(h.field+".URL", "%v", err)
		}
		if h.h.Timeout < 0 || h.h.MaxInFlight < 0 {
			bad(h.field, "Timeout and MaxInFlight must not be negative")
		}
		if h.h.OnError > Allow {
			bad(h.field+".OnError", "must be Refuse or Allow")
		}
	}
	if o.MaxResponseBytes < 0 {
		bad("MaxResponseBytes", "must not be negative")
	}
	return errors.Join(errs...)
}

// CheckURL reports why u cannot be a backend's URL: it must be an
// absolute http or https URL with a host. The configuration of
// cmd/tagwamp checks its keys with it.
func CheckURL(u string) error {
	p, err := url.Parse(u)
	switch {
	case u == "":
		return errors.New("must not be empty")
	case err != nil:
		return fmt.Errorf("not a URL: %v", err)
	case p.Scheme != "http" && p.Scheme != "https":
		return fmt.Errorf("%q: want an http:// or https:// URL", u)
	case p.Host == "":
		return fmt.Errorf("%q: no host", u)
	}
	return nil
}
