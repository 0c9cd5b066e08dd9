package client

import (
	"slices"
	"strings"
)

// Topic returns the tag topic URI base?k1=v1&k2=v2...
// (docs/protocol.md#tag-topics) with the keys of tags in sorted order and keys
// and values percent-encoded: every byte but the RFC 3986 unreserved characters
// (letters, digits, '-', '.', '_', '~') is written %XX. With no tags it returns
// base alone; with an empty base, "?k=v..." is a publication to those tags on
// any base.
//
// Keys should be names (letters, digits, '_', '-', '.'): the server refuses
// other keys. Sorting makes the string stable, which matters to subscribers:
// the server sends events with the subscription's own topic string, so a
// client that subscribes with Topic always gets the same string back.
func Topic(base string, tags map[string]string) string {
	if len(tags) == 0 {
		return base
	}
	keys := make([]string, 0, len(tags))
	n := len(base)
	for k, v := range tags {
		keys = append(keys, k)
		n += 2 + len(k) + len(v)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n)
	b.WriteString(base)
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		escape(&b, k)
		b.WriteByte('=')
		escape(&b, tags[k])
	}
	return b.String()
}

// escape writes s to b with every byte outside the RFC 3986 unreserved set
// percent-encoded.
func escape(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}
