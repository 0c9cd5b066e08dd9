package tagindex

import "math"

// The defaults of Limits (docs/protocol.md#limits).
const (
	// MaxTags is the default of Limits.MaxTags: the user tags of one topic
	// or JSON object, the base not counted.
	MaxTags = 32
	// MaxTopicLen is the default of Limits.MaxLen, in bytes: the longest
	// topic ParseTopic reads, and the longest JSON object ParseJSON reads.
	MaxTopicLen = 4096
)

// Limits bound the cost of parsing one tag set, so that a client never
// chooses it: each bound is checked before the work it guards, the length
// before anything is read, the tag count before a tag is decoded
// (docs/protocol.md#limits). The zero value holds the defaults; every field
// says its default and how to turn it off. ParseTopic, (*Set).ParseTopic and
// ParseJSON apply the defaults; their Limits forms take others.
//
// NewSet applies no limit: its tags come from Go code, not from the wire.
type Limits struct {
	// MaxTags bounds the user tags of one set, the base not counted; over
	// it the parse fails with ErrTooManyTags. Default MaxTags (32);
	// negative: no limit.
	MaxTags int
	// MaxLen bounds, in bytes, the topic ParseTopic reads (base included)
	// and the JSON object ParseJSON reads (whitespace included); over it the
	// parse fails with ErrTooLong. Default MaxTopicLen (4096); negative: no
	// limit.
	MaxLen int
}

// withDefaults returns l with zero fields set to their defaults and
// negative ones (no limit) to math.MaxInt.
func (l Limits) withDefaults() Limits {
	l.MaxTags = limit(l.MaxTags, MaxTags)
	l.MaxLen = limit(l.MaxLen, MaxTopicLen)
	return l
}

// limit resolves one field of Limits: 0 is def, a negative value no limit.
func limit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return math.MaxInt
	}
	return v
}

// countPairs returns the non-empty '&'-separated pairs of query, the tags
// it would hold, without decoding any.
func countPairs(query string) int {
	n := 0
	for query != "" {
		i := 0
		for i < len(query) && query[i] != '&' {
			i++
		}
		if i > 0 {
			n++
		}
		if i == len(query) {
			break
		}
		query = query[i+1:]
	}
	return n
}
