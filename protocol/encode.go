package protocol

import "unicode/utf8"

// The Append functions encode messages in the manner of strconv.Append*:
// they append to dst and return the extended slice, and allocate only when
// dst lacks capacity. Their output is valid JSON as long as the raw JSON
// values given to them (args, results, events, details) are; those are
// copied verbatim, and a nil or empty one is written as null.

// hexDigits are the digits of \u escapes.
const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal. It escapes '"', '\\',
// the control characters (as \b, \f, \n, \r, \t or \u00XX), and U+2028 and
// U+2029, which JavaScript does not accept raw in strings; invalid UTF-8
// becomes \ufffd. Everything else is copied as it is.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, to be copied as it is
	for i := 0; i < len(s); {
		for i+8 <= len(s) && plain8(load8(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// load8 loads the first 8 bytes of s, little endian; the compiler merges
// the loads into one.
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// appendRaw appends the raw JSON value v, or null when v is empty.
func appendRaw(dst, v []byte) []byte {
	if len(v) == 0 {
		return append(dst, "null"...)
	}
	return append(dst, v...)
}

// appendCallID appends the raw callId token id byte for byte, or "" when
// it is empty.
func appendCallID(dst, id []byte) []byte {
	if len(id) == 0 {
		return append(dst, `""`...)
	}
	return append(dst, id...)
}

// appendList appends ids as a JSON list of strings.
func appendList(dst []byte, ids []string) []byte {
	dst = append(dst, '[')
	for i, id := range ids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, id)
	}
	return append(dst, ']')
}

// AppendWelcome appends [0,sessionId,1,serverIdent]
// (docs/protocol.md#messages): the protocol version is always 1.
func AppendWelcome(dst []byte, sessionID, serverIdent string) []byte {
	dst = append(dst, "[0,"...)
	dst = AppendString(dst, sessionID)
	dst = append(dst, ",1,"...)
	dst = AppendString(dst, serverIdent)
	return append(dst, ']')
}

// AppendPrefix appends [1,prefix,uri] (docs/protocol.md#curies).
func AppendPrefix(dst []byte, prefix, uri string) []byte {
	dst = append(dst, "[1,"...)
	dst = AppendString(dst, prefix)
	dst = append(dst, ',')
	dst = AppendString(dst, uri)
	return append(dst, ']')
}

// AppendCall appends [2,callId,procUri,arg...] (docs/protocol.md#messages).
// callID is the call id as a Go string and is escaped into a JSON string;
// each arg is a raw JSON value (nil or empty is null). A single list argument
// stays one argument.
func AppendCall(dst []byte, callID, procURI string, args ...[]byte) []byte {
	dst = append(dst, "[2,"...)
	dst = AppendString(dst, callID)
	dst = append(dst, ',')
	dst = AppendString(dst, procURI)
	for _, a := range args {
		dst = append(dst, ',')
		dst = appendRaw(dst, a)
	}
	return append(dst, ']')
}

// AppendCallResult appends [3,callId,result] (docs/protocol.md#messages).
// callID is the raw JSON token as decoded (Call.CallID), a string or a
// number, copied byte for byte (docs/protocol.md#call-ids); an empty one is
// written as "". result is a raw JSON value; nil or empty is null.
func AppendCallResult(dst, callID, result []byte) []byte {
	dst = append(dst, "[3,"...)
	dst = appendCallID(dst, callID)
	dst = append(dst, ',')
	dst = appendRaw(dst, result)
	return append(dst, ']')
}

// AppendCallError appends [4,callId,errorUri,errorDesc] or, when details
// holds a value other than null, [4,callId,errorUri,errorDesc,errorDetails]:
// errorDetails is never null on the wire (docs/protocol.md#messages).
// callID is the raw token as decoded (Call.CallID), a string or a number,
// copied byte for byte (docs/protocol.md#call-ids); details is a raw JSON
// value.
func AppendCallError(dst, callID []byte, errorURI, desc string, details []byte) []byte {
	dst = append(dst, "[4,"...)
	dst = appendCallID(dst, callID)
	dst = append(dst, ',')
	dst = AppendString(dst, errorURI)
	dst = append(dst, ',')
	dst = AppendString(dst, desc)
	if !isNull(details) {
		dst = append(dst, ',')
		dst = append(dst, details...)
	}
	return append(dst, ']')
}

// isNull reports whether the raw JSON value v is empty or null, ignoring
// whitespace around it.
func isNull(v []byte) bool {
	i, j := 0, len(v)
	for i < j && isWS(v[i]) {
		i++
	}
	for j > i && isWS(v[j-1]) {
		j--
	}
	return i == j || string(v[i:j]) == "null"
}

// AppendSubscribe appends [5,topicUri] (docs/protocol.md#messages).
func AppendSubscribe(dst []byte, topicURI string) []byte {
	dst = append(dst, "[5,"...)
	dst = AppendString(dst, topicURI)
	return append(dst, ']')
}

// AppendUnsubscribe appends [6,topicUri] (docs/protocol.md#messages).
func AppendUnsubscribe(dst []byte, topicURI string) []byte {
	dst = append(dst, "[6,"...)
	dst = AppendString(dst, topicURI)
	return append(dst, ']')
}

// PublishOptions are the optional elements of a PUBLISH
// (docs/protocol.md#publish-options). The zero value publishes with the
// router's default exclusion and no eligible list: the 3-element form.
type PublishOptions struct {
	// Exclude selects element 3: ExcludeDefault (the zero value) omits it,
	// ExcludeMe sends true, ExcludeNone sends false, ExcludeList sends
	// ExcludeIDs.
	Exclude ExcludeMode
	// ExcludeIDs are the session ids to exclude; used only when Exclude is
	// ExcludeList. Empty then sends [] (nobody excluded).
	ExcludeIDs []string
	// Eligible are the only session ids that may receive the event; used
	// only when HasEligible. Empty then sends [] (nobody receives).
	Eligible []string
	// HasEligible sends Eligible as element 4. WAMP v1's 5-element form has
	// an exclude list, never a boolean, so with HasEligible an Exclude other
	// than ExcludeList is sent as [] (nobody excluded): ExcludeMe cannot be
	// combined with an eligible list, and a publisher that does not want its
	// own event must list its own session id in ExcludeIDs instead.
	HasEligible bool
}

// AppendPublish appends a PUBLISH of event (a raw JSON value; nil or empty is
// null) to topicURI (docs/protocol.md#publish-options), in the shortest form
// that carries o: [7,topicUri,event], [7,topicUri,event,excludeMe|bool],
// [7,topicUri,event,exclude] or [7,topicUri,event,exclude,eligible].
func AppendPublish(dst []byte, topicURI string, event []byte, o PublishOptions) []byte {
	dst = append(dst, "[7,"...)
	dst = AppendString(dst, topicURI)
	dst = append(dst, ',')
	dst = appendRaw(dst, event)
	switch {
	case o.HasEligible:
		dst = append(dst, ',')
		if o.Exclude == ExcludeList {
			dst = appendList(dst, o.ExcludeIDs)
		} else {
			dst = append(dst, "[]"...)
		}
		dst = append(dst, ',')
		dst = appendList(dst, o.Eligible)
	case o.Exclude == ExcludeMe:
		dst = append(dst, ",true"...)
	case o.Exclude == ExcludeNone:
		dst = append(dst, ",false"...)
	case o.Exclude == ExcludeList:
		dst = append(dst, ',')
		dst = appendList(dst, o.ExcludeIDs)
	}
	return append(dst, ']')
}

// AppendEvent appends [8,topicUri,event] (docs/protocol.md#encode-once):
// topicURI is the subscriber's own topic string, event a raw JSON value (nil
// or empty is null). A router encodes it once per distinct topic string and
// writes the same bytes to every receiver of that string.
func AppendEvent(dst []byte, topicURI string, event []byte) []byte {
	dst = append(dst, "[8,"...)
	dst = AppendString(dst, topicURI)
	dst = append(dst, ',')
	dst = appendRaw(dst, event)
	return append(dst, ']')
}
