package tagindex

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Tag is one key=value pair of a tag set (docs/protocol.md#tag-topics). A Tag whose Key is BaseKey
// holds the base of a topic (the text before its first '?').
type Tag struct {
	Key, Value string
}

// BaseKey is the reserved key under which a Set holds its base. User keys are names and names are
// never empty, so no user tag can take the place of the base (docs/protocol.md#tag-topics).
const BaseKey = ""

// Set is a canonical tag set: its tags sorted by Key, each key once, the base (if any) first under
// BaseKey. The zero value is the empty set, which a publication uses to reach every subscription.
//
// Sets returned by ParseTopic, ParseJSON, NewSet and Clone own their memory and never change: they
// may be copied and shared between goroutines freely. A Set filled by the reusing (*Set).ParseTopic
// is different: its strings alias buffers that the next (*Set).ParseTopic or Reset of the same
// variable overwrites, and a copy of it shares those buffers. Keep such a set with Clone (Index.Add
// needs no Clone: it copies what it keeps).
type Set struct {
	tags  []Tag
	buf   []byte // decoded topic text that tags alias, when filled by (*Set).ParseTopic
	reuse bool   // tags and buf belong to this variable and may be overwritten in place
}

// NewSet builds a set from a base and user tags. An empty base means no base (a tags-only set, as a
// backend publishes, docs/protocol.md#tag-topics). Keys must be names, values valid UTF-8, and the
// base must not contain '?'. The set keeps base, keys and values as given (Go strings are
// immutable).
func NewSet(base string, tags map[string]string) (Set, error) {
	if strings.IndexByte(base, '?') >= 0 {
		return Set{}, fmt.Errorf("%w: %q", ErrBadBase, base)
	}
	n := len(tags)
	if base != "" {
		n++
	}
	if n == 0 {
		return Set{}, nil
	}
	ts := make([]Tag, 0, n)
	if base != "" {
		ts = append(ts, Tag{BaseKey, base})
	}
	for k, v := range tags {
		if !isName(k) {
			return Set{}, fmt.Errorf("%w: %q", ErrBadKey, k)
		}
		if !utf8.ValidString(v) {
			return Set{}, fmt.Errorf("%w: key %q", ErrBadUTF8, k)
		}
		ts = append(ts, Tag{k, v})
	}
	slices.SortFunc(ts, compareTags)
	return Set{tags: ts}, nil
}

// compareTags orders tags by key, the canonical order of a Set.
func compareTags(a, b Tag) int { return strings.Compare(a.Key, b.Key) }

// Reset empties s. Buffers that s filled with (*Set).ParseTopic are kept for the next parse, which
// is what makes that parse allocation-free; strings taken from s before Reset become invalid.
func (s *Set) Reset() {
	if !s.reuse {
		*s = Set{}
		return
	}
	s.tags = s.tags[:0]
}

// Clone returns a deep copy of s that owns its memory: one allocation for the tags and one for all
// their text. Use it to keep a set filled by (*Set).ParseTopic.
func (s Set) Clone() Set {
	if len(s.tags) == 0 {
		return Set{}
	}
	n := 0
	for _, t := range s.tags {
		n += len(t.Key) + len(t.Value)
	}
	var b strings.Builder
	b.Grow(n)
	for _, t := range s.tags {
		b.WriteString(t.Key)
		b.WriteString(t.Value)
	}
	text := b.String()
	ts := make([]Tag, len(s.tags))
	for i, t := range s.tags {
		k := len(t.Key)
		v := k + len(t.Value)
		ts[i] = Tag{text[:k], text[k:v]}
		text = text[v:]
	}
	return Set{tags: ts}
}

// Len returns the number of tags in s, the base included.
func (s Set) Len() int { return len(s.tags) }

// Base returns the base of s, and false when s has none (a tags-only set).
func (s Set) Base() (string, bool) {
	if len(s.tags) > 0 && s.tags[0].Key == BaseKey {
		return s.tags[0].Value, true
	}
	return "", false
}

// Get returns the value of the tag with the given key; Get(BaseKey) is Base.
func (s Set) Get(key string) (string, bool) {
	for _, t := range s.tags {
		if t.Key == key {
			return t.Value, true
		}
		if t.Key > key {
			break
		}
	}
	return "", false
}

// Tags returns the tags of s sorted by key, the base first under BaseKey. The slice is a read-only
// view of s: do not modify it. Appending to it never writes into s.
func (s Set) Tags() []Tag { return s.tags[:len(s.tags):len(s.tags)] }

// SubsetOf reports whether every tag of s is in t, which is when a publication with tag set s
// reaches a subscription with tag set t (docs/protocol.md#tag-matching). The empty set is a subset
// of every set.
func (s Set) SubsetOf(t Set) bool {
	if len(s.tags) > len(t.tags) {
		return false
	}
	j := 0
	for _, a := range s.tags {
		for j < len(t.tags) && t.tags[j].Key < a.Key {
			j++
		}
		if j == len(t.tags) || t.tags[j] != a {
			return false
		}
		j++
	}
	return true
}

// Equal reports whether s and t hold the same tags: `news?a=1&b=2` and `news?b=2&a=1` are equal.
func (s Set) Equal(t Set) bool { return slices.Equal(s.tags, t.tags) }

// String returns the canonical topic form of s: the base, then, if s has user tags, '?' and the
// tags as key=value sorted by key and joined by '&', each value percent-encoded where needed
// (outside RFC 3986 unreserved characters and !$'()*,;:@/?, so '+', '%', '&', '=' and space are
// always escaped). ParseTopic(s.String()) equals s. The empty set is "".
func (s Set) String() string {
	n := 0
	for _, t := range s.tags {
		n += len(t.Key) + 1 + 3*len(t.Value)
	}
	b := make([]byte, 0, n)
	for i, t := range s.tags {
		if t.Key == BaseKey {
			b = append(b, t.Value...)
			continue
		}
		if i == 0 || s.tags[i-1].Key == BaseKey {
			b = append(b, '?')
		} else {
			b = append(b, '&')
		}
		b = append(b, t.Key...)
		b = append(b, '=')
		b = appendEscaped(b, t.Value)
	}
	return string(b)
}

// appendEscaped appends v to b, percent-encoding every byte that is not kept as is in a value.
func appendEscaped(b []byte, v string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isValueByte(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// isValueByte reports whether String writes c unescaped in a value.
func isValueByte(c byte) bool {
	if isNameByte(c) || c == '~' {
		return true
	}
	switch c {
	case '!', '$', '\'', '(', ')', '*', ',', ';', ':', '@', '/', '?':
		return true
	}
	return false
}

// isNameByte reports whether c may appear in a key: an ASCII letter or digit, '_', '-' or '.'.
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '.'
}

// isName reports whether key is a valid user key (docs/protocol.md#tag-topics).
func isName(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if !isNameByte(key[i]) {
			return false
		}
	}
	return true
}

// sortTags sorts tags by key and reports the first key that appears twice, if any.
func sortTags(tags []Tag) (dup string, ok bool) {
	slices.SortFunc(tags, compareTags)
	for i := 1; i < len(tags); i++ {
		if tags[i].Key == tags[i-1].Key {
			return tags[i].Key, false
		}
	}
	return "", true
}
