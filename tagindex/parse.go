package tagindex

import (
	"bytes"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// ParseTopic parses a topic URI into its tag set (docs/protocol.md#tag-topics). The text before the
// first '?' is the base (kept as is, not decoded; an empty base means no base). The query after it
// is split on '&'; every non-empty pair must be key=value (split at its first '='), its key and
// value percent-decoded (%XX only: '+' stays '+', it is not a space), the key a name, the value
// valid UTF-8, each key once. Empty pairs, from "&&", a trailing '&' or a bare trailing '?', are
// skipped. The default Limits apply: a topic over 4096 bytes is ErrTooLong, one of more than 32
// tags ErrTooManyTags. The result owns its memory.
func ParseTopic(uri string) (Set, error) {
	return ParseTopicLimits(uri, Limits{})
}

// ParseTopicLimits is ParseTopic within l instead of the default Limits.
func ParseTopicLimits(uri string, l Limits) (Set, error) {
	var s Set
	if err := s.parse(uri, l); err != nil {
		return Set{}, err
	}
	if len(s.tags) == 0 {
		return Set{}, nil
	}
	s.reuse = false
	return s, nil
}

// ParseTopic is the reusing form of the package-level ParseTopic, for the hot path: it resets s and
// parses uri into buffers that s keeps from one call to the next, so that once they have grown to
// the largest topic seen it allocates nothing. It reads uri only during the call. The strings of s
// (from Tags, Base, Get) alias those buffers and stay valid until the next ParseTopic or Reset of
// s; Clone what must outlive that. On error s is left empty. The default Limits apply, as in the
// package-level ParseTopic.
func (s *Set) ParseTopic(uri []byte) error {
	return s.ParseTopicLimits(uri, Limits{})
}

// ParseTopicLimits is (*Set).ParseTopic within l instead of the default Limits.
func (s *Set) ParseTopicLimits(uri []byte, l Limits) error {
	return s.parse(unsafe.String(unsafe.SliceData(uri), len(uri)), l)
}

// parse implements both forms of ParseTopic. It checks l first: the length, then the number of
// pairs, counted without decoding them. The topic is then copied once into s.buf, whose capacity
// covers it before any string is taken; the query is percent-decoded in place (decoding only
// shrinks, so the write position never passes the read position) and the tags alias s.buf.
func (s *Set) parse(uri string, l Limits) error {
	s.Reset()
	s.reuse = true
	l = l.withDefaults()
	if len(uri) > l.MaxLen {
		return ErrTooLong
	}
	q := strings.IndexByte(uri, '?')
	if q < 0 && uri == "" {
		return nil
	}
	n := 0 // an upper bound of the user tags
	if q >= 0 {
		n = 1 + strings.Count(uri[q+1:], "&")
		if n > l.MaxTags {
			if n = countPairs(uri[q+1:]); n > l.MaxTags {
				return ErrTooManyTags
			}
		}
	}
	if cap(s.buf) < len(uri) {
		s.buf = make([]byte, 0, len(uri))
	}
	buf := append(s.buf[:0], uri...)
	s.buf = buf
	if q < 0 {
		s.tags = append(s.tags, Tag{BaseKey, unsafe.String(&buf[0], len(buf))})
		return nil
	}
	if cap(s.tags) < n+1 {
		s.tags = make([]Tag, 0, n+1)
	}
	if q > 0 {
		s.tags = append(s.tags, Tag{BaseKey, unsafe.String(&buf[0], q)})
	}
	w := q + 1 // write position of decoded text
	for r := q + 1; r < len(buf); {
		end := bytes.IndexByte(buf[r:], '&')
		if end < 0 {
			end = len(buf)
		} else {
			end += r
		}
		if end == r {
			r++
			continue
		}
		eq := bytes.IndexByte(buf[r:end], '=')
		if eq < 0 {
			return s.fail(ErrNoEquals)
		}
		eq += r
		k := w
		var ok bool
		w, ok = unescape(buf, r, eq, w)
		if !ok {
			return s.fail(ErrBadEscape)
		}
		key := unsafe.String(&buf[k], w-k)
		if !isName(key) {
			return s.fail(ErrBadKey)
		}
		v := w
		w, ok = unescape(buf, eq+1, end, w)
		if !ok {
			return s.fail(ErrBadEscape)
		}
		var value string
		if w > v {
			value = unsafe.String(&buf[v], w-v)
			if !utf8.ValidString(value) {
				return s.fail(ErrBadUTF8)
			}
		}
		s.tags = append(s.tags, Tag{key, value})
		r = end + 1
	}
	if _, ok := sortTags(s.tags); !ok {
		return s.fail(ErrDuplicateKey)
	}
	return nil
}

// fail empties s and returns err.
func (s *Set) fail(err error) error {
	s.tags = s.tags[:0]
	return err
}

// unescape percent-decodes buf[r:end] into buf[w:], with w <= r, and returns the new write
// position; ok is false on a '%' not followed by two hexadecimal digits.
func unescape(buf []byte, r, end, w int) (int, bool) {
	for r < end {
		i := bytes.IndexByte(buf[r:end], '%')
		if i < 0 {
			return w + copy(buf[w:], buf[r:end]), true
		}
		w += copy(buf[w:], buf[r:r+i])
		r += i
		if end-r < 3 {
			return w, false
		}
		hi, ok1 := unhex(buf[r+1])
		lo, ok2 := unhex(buf[r+2])
		if !ok1 || !ok2 {
			return w, false
		}
		buf[w] = hi<<4 | lo
		w++
		r += 3
	}
	return w, true
}

// unhex returns the value of the hexadecimal digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
