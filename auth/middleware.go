package auth

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// RPC is the router.RPCMiddleware that answers the WAMP-CRA procedures
// itself and lets any other call through only when the session's
// permissions allow it; a denied call answers
// http://api.wamp.ws/error#not-authorized (docs/protocol.md#permissions).
// The allowed path takes no lock but the session's value lookup and
// allocates nothing, so a call stays inline (router.InlineHandler) when
// next says it is; the WAMP-CRA procedures never are.
func (a *Auth) RPC(next router.RPCHandler) router.RPCHandler {
	return rpcGate{next, router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		switch c.URI {
		case ProcAuthReq:
			return a.authreq(s, c)
		case ProcAuth:
			return a.auth(s, c)
		}
		if !a.grantOf(s).pol.canCall(c.URI) {
			a.stats.calls.Add(1)
			a.log.Debug("auth: call denied", "session", s.ID(), "procedure", logval.String(c.URI))
			return nil, &protocol.Error{URI: protocol.ErrorURINotAuthorized, Desc: "not authorized to call " + logval.String(c.URI)}
		}
		return next.ServeCall(ctx, s, c)
	})}
}

// rpcGate is the handler RPC returns.
type rpcGate struct {
	next router.RPCHandler
	router.RPCHandlerFunc
}

// Inline reports a call inline when next does, except the WAMP-CRA
// procedures, whose key derivation may take a while.
func (g rpcGate) Inline(c *router.Call) bool {
	if c.URI == ProcAuthReq || c.URI == ProcAuth {
		return false
	}
	ih, ok := g.next.(router.InlineHandler)
	return ok && ih.Inline(c)
}

// Subscribe allows sub when a rule grants sub on its base and it names no
// bound key with another value; it adds the bound tags it lacks, so the
// topic handlers after it see them (router.TopicHandler). What it denies,
// the router drops, counts and logs (docs/protocol.md#dropped-messages).
func (a *Auth) Subscribe(_ context.Context, s *router.Session, sub *router.Subscription) error {
	g := a.grantOf(s)
	base, _ := sub.Tags.Base()
	if !g.pol.canTopic(base, canSub) {
		a.stats.subs.Add(1)
		return ErrSubscribeDenied
	}
	if len(g.bound) > 0 {
		missing, ok := checkBound(sub.Tags, g.bound)
		if !ok {
			a.stats.subs.Add(1)
			return ErrBoundTag
		}
		if missing {
			tags, err := withBound(sub.Tags, g.bound)
			if err != nil {
				a.stats.subs.Add(1)
				return err
			}
			sub.Tags = tags
		}
	}
	return nil
}

// Publish allows pub when a rule grants pub on its base, or, for a
// publication without a base or tags, when the session may broadcast; and
// when it names no bound key with another value (router.TopicHandler). A
// plain tag connection's request is checked with the identity plainGrant
// finds.
func (a *Auth) Publish(_ context.Context, s *router.Session, pub *router.Publication) error {
	g := a.grantOf(s)
	if s.Plain() {
		var err error
		if g, err = a.plainGrant(g, pub.Metadata); err != nil {
			a.stats.pubs.Add(1)
			return err
		}
	}
	base, hasBase := pub.Tags.Base()
	switch {
	case !hasBase && !g.pol.broadcast:
		a.stats.pubs.Add(1)
		return ErrBroadcastDenied
	case hasBase && !g.pol.canTopic(base, canPub):
		a.stats.pubs.Add(1)
		return ErrPublishDenied
	}
	if len(g.bound) > 0 {
		if _, ok := checkBound(pub.Tags, g.bound); !ok {
			a.stats.pubs.Add(1)
			return ErrBoundTag
		}
	}
	return nil
}

// plainGrant returns the identity a plain tag connection's request acts
// as (Gomoob's authorizeSend, docs/protocol.md#permissions): the application
// whose key and secret its metadata carries (compared in constant time; the
// secret is never logged nor echoed), or, when the metadata carries neither,
// the connection's own when it opened with a key and secret or a token.
func (a *Auth) plainGrant(conn *grant, metadata json.RawMessage) (*grant, error) {
	var md struct {
		Key, Secret json.RawMessage
	}
	if len(metadata) > 0 {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(metadata, &fields); err != nil {
			return nil, ErrBadPlainCredentials
		}
		md.Key, md.Secret = fields["key"], fields["secret"]
	}
	if md.Key == nil && md.Secret == nil {
		if m := conn.id.Method; m == KeySecret || m == Token {
			return conn, nil
		}
		return nil, ErrPlainCredentials
	}
	var key, secret string
	if json.Unmarshal(md.Key, &key) != nil || json.Unmarshal(md.Secret, &secret) != nil {
		return nil, ErrBadPlainCredentials
	}
	ap := a.checkSecret(key, secret)
	if ap == nil {
		return nil, ErrBadPlainCredentials
	}
	return ap.grant, nil
}

// checkBound reports whether set names every bound key it holds with the
// bound value (ok), and whether some bound key is missing.
func checkBound(set tagindex.Set, bound []tagindex.Tag) (missing, ok bool) {
	for _, b := range bound {
		v, has := set.Get(b.Key)
		if !has {
			missing = true
		} else if v != b.Value {
			return missing, false
		}
	}
	return missing, true
}

// withBound returns set with the bound tags it lacks added.
func withBound(set tagindex.Set, bound []tagindex.Tag) (tagindex.Set, error) {
	base, _ := set.Base()
	tags := make(map[string]string, set.Len()+len(bound))
	for _, t := range set.Tags() {
		if t.Key != tagindex.BaseKey {
			tags[t.Key] = t.Value
		}
	}
	for _, b := range bound {
		tags[b.Key] = b.Value
	}
	out, err := tagindex.NewSet(base, tags)
	if err != nil {
		return tagindex.Set{}, fmt.Errorf("auth: adding bound tags: %w", err)
	}
	return out, nil
}
