package tagindex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ParseJSON parses the JSON tags of a plain tag connection or of a backend's publication
// (docs/protocol.md#plain-connections), such as {"language":"FR","user":42}. obj must be one JSON
// object (whitespace around it allowed) in valid UTF-8. Its keys must be names, each once; its
// values strings or integers, an integer standing for its decimal text, so "user":42 and the topic
// tag user=42 are the same tag. Integers of any size are accepted as written (JSON allows no
// leading zeros; -0 is read as 0); floats, exponents, booleans, null, arrays and objects are
// refused. The set has no base. The default Limits apply: an object over 4096 bytes is ErrTooLong,
// checked before it is read, one of more than 32 keys ErrTooManyTags, checked before the 33rd is
// decoded. This is not a hot path: it uses encoding/json's token API.
func ParseJSON(obj []byte) (Set, error) {
	return ParseJSONLimits(obj, Limits{})
}

// ParseJSONLimits is ParseJSON within l instead of the default Limits.
func ParseJSONLimits(obj []byte, l Limits) (Set, error) {
	l = l.withDefaults()
	if len(obj) > l.MaxLen {
		return Set{}, fmt.Errorf("%w: %d bytes, over %d", ErrTooLong, len(obj), l.MaxLen)
	}
	if !utf8.Valid(obj) {
		return Set{}, fmt.Errorf("%w: invalid UTF-8", ErrNotObject)
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return Set{}, fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	if tok != json.Delim('{') {
		return Set{}, ErrNotObject
	}
	var tags []Tag
	for dec.More() {
		if len(tags) == l.MaxTags {
			return Set{}, fmt.Errorf("%w: more than %d", ErrTooManyTags, l.MaxTags)
		}
		tok, err = dec.Token()
		if err != nil {
			return Set{}, fmt.Errorf("%w: %v", ErrNotObject, err)
		}
		key, _ := tok.(string)
		if !isName(key) {
			return Set{}, fmt.Errorf("%w: %q", ErrBadKey, key)
		}
		tok, err = dec.Token()
		if err != nil {
			return Set{}, fmt.Errorf("%w: %v", ErrNotObject, err)
		}
		var value string
		switch v := tok.(type) {
		case string:
			value = v
		case json.Number:
			if strings.ContainsAny(string(v), ".eE") {
				return Set{}, fmt.Errorf("%w: key %q: %s", ErrBadValue, key, v)
			}
			value = string(v)
			if value == "-0" {
				value = "0"
			}
		default:
			return Set{}, fmt.Errorf("%w: key %q: %v", ErrBadValue, key, tok)
		}
		tags = append(tags, Tag{key, value})
	}
	if _, err = dec.Token(); err != nil { // the closing '}'
		return Set{}, fmt.Errorf("%w: %v", ErrNotObject, err)
	}
	if _, err = dec.Token(); err != io.EOF {
		return Set{}, fmt.Errorf("%w: data after the object", ErrNotObject)
	}
	if dup, ok := sortTags(tags); !ok {
		return Set{}, fmt.Errorf("%w: %q", ErrDuplicateKey, dup)
	}
	if len(tags) == 0 {
		return Set{}, nil
	}
	return Set{tags: tags}, nil
}
