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
// (docs/protocol.md#plain-connections), such as {"language":"FR","user":42}: one JSON object,
// whitespace around it allowed. An integer value becomes its decimal text as written, of any size
// (-0 is read as 0). The set has no base. This is not a hot path: it uses encoding/json's token
// API.
func ParseJSON(obj []byte) (Set, error) {
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
