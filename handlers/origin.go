package handlers

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tagwamp/tagwamp/router"
)

// OriginCheck is a router.HandshakeFilter that refuses WebSocket
// upgrades from browser pages of origins not on its allow list, so that a
// page on another site cannot open a session with the user's cookies
// (cross-site WebSocket hijacking).
//
// Each allow-list entry is one of:
//
//	https://app.example.com      exactly this origin (scheme, host, port)
//	https://*.example.com        any subdomain of example.com, at any depth,
//	                             with this scheme and port, but not
//	                             example.com itself
//	*                            any origin, "null" included
//
// Scheme and host compare case-insensitively and a default port (80 for
// http and ws, 443 for https and wss) may be written or left out. An empty
// allow list allows every origin.
//
// A request without an Origin header comes from a non-browser client (a
// backend, a command-line tool), which no page controls: it is allowed
// unless the check requires an origin. A refused upgrade is answered
// 403 with the reason "origin not allowed".
//
// An OriginCheck is immutable and safe for concurrent use.
type OriginCheck struct {
	any           bool
	exact         map[string]struct{} // normalized "scheme://host[:port]"
	wild          []wildOrigin
	requireOrigin bool
}

// wildOrigin is an entry "scheme://*.suffix[:port]" with suffix stored as
// ".suffix".
type wildOrigin struct {
	scheme, suffix, port string
}

// NewOriginCheck returns a check allowing the origins of allow (see
// OriginCheck); when requireOrigin is set, a request without an Origin
// header is refused too. An entry that is not a valid pattern fails with an
// error naming it.
func NewOriginCheck(allow []string, requireOrigin bool) (*OriginCheck, error) {
	c := &OriginCheck{exact: map[string]struct{}{}, requireOrigin: requireOrigin, any: len(allow) == 0}
	for i, e := range allow {
		e = strings.TrimSpace(e)
		if e == "*" {
			c.any = true
			continue
		}
		o, err := parseOrigin(e)
		if err != nil {
			return nil, fmt.Errorf("handlers: origin check: allow[%d] %q: %w", i, e, err)
		}
		if rest, ok := strings.CutPrefix(o.host, "*."); ok {
			if rest == "" || strings.Contains(rest, "*") {
				return nil, fmt.Errorf("handlers: origin check: allow[%d] %q: bad wildcard host", i, e)
			}
			c.wild = append(c.wild, wildOrigin{scheme: o.scheme, suffix: "." + rest, port: o.port})
			continue
		}
		if strings.Contains(o.host, "*") {
			return nil, fmt.Errorf("handlers: origin check: allow[%d] %q: a wildcard must be the whole first label, as in https://*.example.com", i, e)
		}
		c.exact[o.String()] = struct{}{}
	}
	return c, nil
}

// origin is a parsed, normalized origin.
type origin struct {
	scheme, host, port string // lower case; port "" when the scheme's default
}

func (o origin) String() string {
	if o.port == "" {
		return o.scheme + "://" + o.host
	}
	return o.scheme + "://" + o.host + ":" + o.port
}

// defaultPort returns the port a scheme implies, "" when unknown.
func defaultPort(scheme string) string {
	switch scheme {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}

// parseOrigin parses "scheme://host[:port]", the serialization of an origin
// (RFC 6454): no path, query, fragment or user info.
func parseOrigin(s string) (origin, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return origin{}, fmt.Errorf("not an origin: want scheme://host[:port]")
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return origin{}, fmt.Errorf("not an origin: only scheme://host[:port] is allowed")
	}
	o := origin{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), port: u.Port()}
	if o.host == "" {
		return origin{}, fmt.Errorf("not an origin: empty host")
	}
	if strings.Contains(o.host, ":") {
		o.host = "[" + o.host + "]" // IPv6 literal, as serialized
	}
	if o.port == defaultPort(o.scheme) {
		o.port = ""
	}
	return o, nil
}

// Allowed reports whether an upgrade with the given Origin header value
// (empty when the header is absent) passes the check.
func (c *OriginCheck) Allowed(originHeader string) bool {
	if originHeader == "" {
		return !c.requireOrigin
	}
	if c.any {
		return true
	}
	o, err := parseOrigin(originHeader)
	if err != nil {
		return false // "null" and garbage match only "*"
	}
	if _, ok := c.exact[o.String()]; ok {
		return true
	}
	for _, w := range c.wild {
		if w.scheme == o.scheme && w.port == o.port && strings.HasSuffix(o.host, w.suffix) {
			return true
		}
	}
	return false
}

// Handshake implements router.HandshakeFilter: it refuses an upgrade
// whose origin is not allowed with &router.HTTPError{Status: 403, Reason:
// "origin not allowed"}.
func (c *OriginCheck) Handshake(r *router.Request) error {
	if c.Allowed(r.Header.Get("Origin")) {
		return nil
	}
	return &router.HTTPError{Status: 403, Reason: "origin not allowed"}
}
