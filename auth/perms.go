package auth

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// RPCRule grants or denies calls to one procedure URI, or, when Prefix is
// set, to every URI under URI: URI itself and what extends it past a
// boundary (see Permissions; docs/protocol.md#permissions).
type RPCRule struct {
	URI    string `json:"uri" yaml:"uri"`
	Prefix bool   `json:"prefix" yaml:"prefix"`
	Call   bool   `json:"call" yaml:"call"`
}

// TopicRule grants or denies publishing (Pub) and subscribing (Sub) on one
// topic base, or, when Prefix is set, on every base under URI, as for
// RPCRule (docs/protocol.md#permissions). A rule is matched against the
// topic's base, the text before '?' (docs/protocol.md#tag-topics), so a rule for
// http://example.com/news covers news?lang=FR and news?user=42 alike;
// bound tags (tokens) restrict the query part.
type TopicRule struct {
	URI    string `json:"uri" yaml:"uri"`
	Prefix bool   `json:"prefix" yaml:"prefix"`
	Pub    bool   `json:"pub" yaml:"pub"`
	Sub    bool   `json:"sub" yaml:"sub"`
}

// Permissions is what a session may do, in the shape WAMP-CRA returns
// them (docs/protocol.md#permissions): lists of RPC and PubSub rules, plus
// Broadcast.
//
// A prefix rule matches on URI boundaries, never in the middle of a word:
// prefix P matches U when U is P, or U starts with P and either P ends with
// one of the separators / # ? . : or the byte of U right after P is one.
// So a rule for http://example.com/news covers news, news/sport, news#top,
// news.fr, news:42 and news?lang=FR, but not newsletter; a rule for
// http://example.com/app# covers every procedure of app#; and the empty
// prefix matches everything (docs/protocol.md#permissions).
//
// For a URI or a topic base, the most specific matching rule decides: an
// exact rule beats every prefix rule, a longer prefix beats a shorter one.
// No matching rule denies. So
//
//	pubsub:
//	  - {uri: "http://example.com/", prefix: true, sub: true}
//	  - {uri: "http://example.com/admin", prefix: true}
//
// lets a session subscribe to everything under http://example.com/ except
// the admin topics.
//
// Broadcast allows publications that have no base (tags only, reaching
// those tags on every base) or an empty tag set (reaching every
// subscription): docs/protocol.md#tag-matching reserves them for trusted backends, so no
// TopicRule allows them, not even the empty prefix; only Broadcast does.
// Broadcast does not lift bound tags.
type Permissions struct {
	RPC       []RPCRule   `json:"rpc" yaml:"rpc"`
	PubSub    []TopicRule `json:"pubsub" yaml:"pubsub"`
	Broadcast bool        `json:"broadcast" yaml:"broadcast"`
}

// AllPermissions returns permissions that allow everything: every call,
// every publication and subscription, and broadcasts. It is the default of
// an Application whose Permissions are nil.
func AllPermissions() Permissions {
	return Permissions{
		RPC:       []RPCRule{{URI: "", Prefix: true, Call: true}},
		PubSub:    []TopicRule{{URI: "", Prefix: true, Pub: true, Sub: true}},
		Broadcast: true,
	}
}

// Validate reports the first rule that can never match as meant: an exact
// rule with an empty URI, or two rules for the same URI and kind.
func (p Permissions) Validate() error {
	type k struct {
		uri    string
		prefix bool
	}
	seen := map[k]bool{}
	for i, r := range p.RPC {
		if r.URI == "" && !r.Prefix {
			return fmt.Errorf("rpc[%d]: empty uri: an exact rule needs a URI (use prefix: true for all)", i)
		}
		if seen[k{r.URI, r.Prefix}] {
			return fmt.Errorf("rpc[%d]: duplicate rule for %q", i, r.URI)
		}
		seen[k{r.URI, r.Prefix}] = true
	}
	clear(seen)
	for i, r := range p.PubSub {
		if r.URI == "" && !r.Prefix {
			return fmt.Errorf("pubsub[%d]: empty uri: an exact rule needs a URI (use prefix: true for all; broadcasts need broadcast: true)", i)
		}
		if strings.IndexByte(r.URI, '?') >= 0 {
			return fmt.Errorf("pubsub[%d]: uri %q has a query: rules match the topic base, the text before '?'", i, r.URI)
		}
		if seen[k{r.URI, r.Prefix}] {
			return fmt.Errorf("pubsub[%d]: duplicate rule for %q", i, r.URI)
		}
		seen[k{r.URI, r.Prefix}] = true
	}
	return nil
}

// Action bits of a compiled rule.
const (
	canCall uint8 = 1 << iota
	canPub
	canSub
)

// rules is a compiled rule list: exact URIs in a map, prefixes longest
// first. Lookups take no lock and allocate nothing; a rules value is never
// modified after compile.
type rules struct {
	exact    map[string]uint8
	prefixes []prefixRule
}

type prefixRule struct {
	prefix string
	bits   uint8
}

// lookup returns the bits of the most specific rule matching uri, or 0.
func (r *rules) lookup(uri string) uint8 {
	if b, ok := r.exact[uri]; ok {
		return b
	}
	for i := range r.prefixes {
		if underPrefix(uri, r.prefixes[i].prefix) {
			return r.prefixes[i].bits
		}
	}
	return 0
}

// underPrefix reports whether a prefix rule for prefix matches uri: uri is
// prefix, or extends it past a URI boundary (Permissions,
// docs/protocol.md#permissions). The empty prefix matches every URI.
func underPrefix(uri, prefix string) bool {
	if !strings.HasPrefix(uri, prefix) {
		return false
	}
	return len(uri) == len(prefix) || prefix == "" ||
		isBoundary(prefix[len(prefix)-1]) || isBoundary(uri[len(prefix)])
}

// isBoundary reports whether b separates the parts of a URI for prefix
// rules: / # ? . or :.
func isBoundary(b byte) bool {
	switch b {
	case '/', '#', '?', '.', ':':
		return true
	}
	return false
}

func (r *rules) add(uri string, prefix bool, bits uint8) {
	if !prefix {
		if r.exact == nil {
			r.exact = make(map[string]uint8)
		}
		r.exact[uri] = bits
		return
	}
	r.prefixes = append(r.prefixes, prefixRule{uri, bits})
}

func (r *rules) sort() {
	slices.SortStableFunc(r.prefixes, func(a, b prefixRule) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
}

// policy is compiled Permissions.
type policy struct {
	rpc       rules
	topics    rules
	broadcast bool
	perms     Permissions // as configured, for the CRA answer
}

func compile(p Permissions) *policy {
	pol := &policy{broadcast: p.Broadcast, perms: p}
	for _, r := range p.RPC {
		var b uint8
		if r.Call {
			b = canCall
		}
		pol.rpc.add(r.URI, r.Prefix, b)
	}
	for _, r := range p.PubSub {
		var b uint8
		if r.Pub {
			b |= canPub
		}
		if r.Sub {
			b |= canSub
		}
		pol.topics.add(r.URI, r.Prefix, b)
	}
	pol.rpc.sort()
	pol.topics.sort()
	if pol.perms.RPC == nil {
		pol.perms.RPC = []RPCRule{}
	}
	if pol.perms.PubSub == nil {
		pol.perms.PubSub = []TopicRule{}
	}
	return pol
}

func (p *policy) canCall(uri string) bool { return p.rpc.lookup(uri)&canCall != 0 }

func (p *policy) canTopic(base string, bit uint8) bool { return p.topics.lookup(base)&bit != 0 }
