package tagindex

import "errors"

// Errors returned by ParseTopic, (*Set).ParseTopic, ParseJSON and NewSet. Callers test them with
// errors.Is: ParseJSON and NewSet wrap them with the offending key or the JSON syntax error, while
// both forms of ParseTopic return them bare so that a malformed topic costs no allocation.
var (
	// ErrNoEquals reports a query pair without '=' (docs/protocol.md#tag-topics: every tag is
	// key=value).
	ErrNoEquals = errors.New("tagindex: tag without '='")

	// ErrBadKey reports a tag key that is not a name: keys are non-empty and made of ASCII letters,
	// digits, '_', '-' and '.' only (docs/protocol.md#tag-topics). The empty key is reserved for
	// the base.
	ErrBadKey = errors.New("tagindex: tag key is not a name")

	// ErrDuplicateKey reports a key that appears twice in one tag set (docs/protocol.md#tag-topics:
	// a key appears once).
	ErrDuplicateKey = errors.New("tagindex: duplicate tag key")

	// ErrBadEscape reports a '%' not followed by two hexadecimal digits in a topic's query.
	ErrBadEscape = errors.New("tagindex: bad percent escape")

	// ErrBadUTF8 reports a tag value that is not valid UTF-8 once percent-decoded.
	ErrBadUTF8 = errors.New("tagindex: tag value is not valid UTF-8")

	// ErrBadBase reports a base passed to NewSet that contains '?': such a base could not be written
	// as a topic, since a topic's base ends at its first '?'.
	ErrBadBase = errors.New("tagindex: base contains '?'")

	// ErrNotObject reports JSON tags that are not one well-formed JSON object
	// (docs/protocol.md#plain-connections).
	ErrNotObject = errors.New("tagindex: tags are not a JSON object")

	// ErrTooManyTags reports a topic or a JSON object with more user tags than Limits.MaxTags (by
	// default MaxTags, 32), found before any tag is decoded (docs/protocol.md#limits).
	ErrTooManyTags = errors.New("tagindex: too many tags")

	// ErrTooLong reports a topic or a JSON object longer than Limits.MaxLen (by default
	// MaxTopicLen, 4096 bytes), found before any of it is read (docs/protocol.md#limits).
	ErrTooLong = errors.New("tagindex: topic too long")

	// ErrBadValue reports a JSON tag value that is neither a string nor an integer
	// (docs/protocol.md#plain-connections): floats, booleans, null, arrays and objects are refused.
	ErrBadValue = errors.New("tagindex: tag value is not a string or an integer")
)
