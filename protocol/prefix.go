package protocol

import "bytes"

// MaxPrefixes is the most CURIE prefixes one session may define
// (docs/protocol.md#curies); redefining one does not count again.
const MaxPrefixes = 256

// Prefixes is one session's CURIE map (docs/protocol.md#curies): PREFIX
// messages define entries, and Resolve expands procUri and topicUri strings
// that use them. The zero value is an empty map, ready to use. A Prefixes is
// not safe for concurrent use; it belongs to its session.
type Prefixes struct {
	// Max bounds the prefixes Set accepts: 0 means MaxPrefixes, a negative
	// value no limit. A router sets it from its configuration once, before
	// the first Set.
	Max int
	// MaxURILen bounds the URI a prefix may stand for and the URIs
	// ResolveLimit builds (docs/protocol.md#limits): 0 means
	// DefaultMaxURILen, a negative value no limit. A router sets it with
	// Max.
	MaxURILen int

	m map[string]string
}

// ValidName reports whether b is a name: non-empty, of ASCII letters, digits,
// '_', '-' and '.' only (docs/protocol.md#curies, #tag-topics). Prefix names
// and tag keys are names, so JSON- or query-shaped strings are never taken
// for CURIEs.
func ValidName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// Set defines prefix as uri, replacing an earlier definition of prefix. It
// returns an error wrapping ErrBadPrefix when prefix is not a name (see
// ValidName), one wrapping ErrURITooLong when uri is longer than
// MaxURILen, and one wrapping ErrTooManyPrefixes when prefix is new
// and Max (by default MaxPrefixes) are defined already. Set copies both
// byte slices, so they may be borrowed from a Decoder.
func (p *Prefixes) Set(prefix, uri []byte) error {
	if !ValidName(prefix) {
		return errorf(ErrBadPrefix, "PREFIX: %q is not a name", clip(prefix))
	}
	if n := p.maxURILen(); len(uri) > n {
		return errorf(ErrURITooLong, "PREFIX: uri of %d bytes, over the limit of %d", len(uri), n)
	}
	if old, ok := p.m[string(prefix)]; ok {
		if old != string(uri) {
			p.m[string(prefix)] = string(uri)
		}
		return nil
	}
	if limit := p.limit(); limit >= 0 && len(p.m) >= limit {
		return errorf(ErrTooManyPrefixes, "PREFIX: more than %d prefixes", limit)
	}
	if p.m == nil {
		p.m = make(map[string]string)
	}
	p.m[string(prefix)] = string(uri)
	return nil
}

// limit is the resolved Max: -1 for no limit.
func (p *Prefixes) limit() int {
	switch {
	case p.Max == 0:
		return MaxPrefixes
	case p.Max < 0:
		return -1
	}
	return p.Max
}

// Resolve appends to dst the URI that s stands for and returns the extended
// slice: when s holds a ':' and the text before the first ':' is a defined
// prefix, the prefix's URI followed by the text after that ':' (plain
// concatenation); otherwise s unchanged, so that full URIs like
// "http://..." pass through (docs/protocol.md#curies). It does not allocate
// when dst has room. It applies no limit: ResolveLimit does.
func (p *Prefixes) Resolve(dst, s []byte) []byte {
	uri, rest := p.expand(s)
	dst = append(dst, uri...)
	return append(dst, rest...)
}

// ResolveLimit is Resolve within MaxURILen: when the URI that s
// stands for is longer, it returns dst unchanged and an error wrapping
// ErrURITooLong, whose reason names the length, without copying the URI
// (docs/protocol.md#limits). A router closes the session with 1002 for it,
// or answers a CALL with a CALLERROR. It does not allocate when dst has
// room and the URI is within the limit.
func (p *Prefixes) ResolveLimit(dst, s []byte) ([]byte, error) {
	uri, rest := p.expand(s)
	if n, maxLen := len(uri)+len(rest), p.maxURILen(); n > maxLen {
		return dst, errorf(ErrURITooLong, "URI of %d bytes once resolved, over the limit of %d", n, maxLen)
	}
	dst = append(dst, uri...)
	return append(dst, rest...), nil
}

// expand returns the two parts that s resolves to, to be concatenated: the
// URI of its prefix and the text after the ':' when s is a CURIE of a
// defined prefix, else "" and s.
func (p *Prefixes) expand(s []byte) (string, []byte) {
	if len(p.m) != 0 {
		if i := bytes.IndexByte(s, ':'); i > 0 {
			if uri, ok := p.m[string(s[:i])]; ok {
				return uri, s[i+1:]
			}
		}
	}
	return "", s
}

// Len returns the number of defined prefixes.
func (p *Prefixes) Len() int { return len(p.m) }

// maxURILen is MaxURILen resolved.
func (p *Prefixes) maxURILen() int { return limit(p.MaxURILen, DefaultMaxURILen) }
