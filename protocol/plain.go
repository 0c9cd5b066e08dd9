package protocol

import (
	"strings"
	"unicode/utf8"
)

// PlainRequest is one request of a plain tag connection, a text frame that
// holds one JSON object (docs/protocol.md#plain-requests):
//
//	{"message": any, "tags": {key: string|integer, ...}, "metadata": {...}}
//
// message is required, tags and metadata optional, in any order; no other
// key, and no key twice. Its fields are raw JSON values, whitespace-trimmed
// subslices of the frame given to Decoder.DecodePlain, borrowed: valid while
// the frame is unchanged. They are capacity-limited, so appending to one
// never writes into the frame.
type PlainRequest struct {
	// Message is the raw JSON message, any type, null included; it is what
	// plain receivers get, alone.
	Message []byte
	// Tags is the raw JSON object of tags, nil when the request has none.
	// DecodePlain checks only that it is an object: its keys and values are
	// the tag parser's to check (tagindex.ParseJSON).
	Tags []byte
	// Metadata is the raw JSON object of metadata (used for auth: key,
	// secret), nil when the request has none.
	Metadata []byte
}

// The keys of a plain request, as bits of a set.
const (
	plainMessage = 1 << iota
	plainTags
	plainMetadata
)

// plainShape names the request's shape in the reason of a frame that is
// not an object.
const plainShape = `{"message": ..., "tags": {...}, "metadata": {...}}`

// DecodePlain decodes one whole frame of a plain tag connection into r,
// overwriting it, in one pass of the scanner that Decode uses: the frame
// must be strictly valid JSON within MaxDepth and d.Limits.MaxElements, and
// a request as PlainRequest describes. The errors match a router's close
// codes (docs/protocol.md#plain-requests): a frame that is not JSON, or not
// UTF-8, wraps ErrInvalidJSON (1007), with "invalid UTF-8" in its reason
// when that is the fault; JSON that is not a request wraps
// ErrBadPlainRequest (1002), with a reason naming the problem; too many
// values wraps ErrTooManyElements (1009). Whether the JSON is valid is
// decided first: a frame with both faults is ErrInvalidJSON.
//
// DecodePlain does not allocate, unless a key has escapes (then it grows the
// Decoder's scratch buffer, as Decode does) or it fails. It ends what a
// Message from the previous Decode borrowed from d. After an error r is
// empty.
func (d *Decoder) DecodePlain(frame []byte, r *PlainRequest) error {
	*r = PlainRequest{}
	err := d.decodePlain(frame, r)
	if err != nil {
		*r = PlainRequest{}
	}
	return err
}

// decodePlain is DecodePlain, r empty on entry.
func (d *Decoder) decodePlain(frame []byte, r *PlainRequest) error {
	d.reset()
	budget := d.Limits.withDefaults().MaxElements
	i := skipWS(frame, 0)
	if i == len(frame) {
		return d.plainError(frame, errorf(ErrInvalidJSON, "invalid JSON: empty frame"))
	}
	if frame[i] != '{' {
		end, _, _, err := scanValue(frame, i, 0, &budget)
		if err == nil {
			err = checkEnd(frame, end)
		}
		if err != nil {
			return d.plainError(frame, err)
		}
		return errorf(ErrBadPlainRequest, "plain request: not a JSON object %s", plainShape)
	}
	var seen int
	var bad error // the first fault of shape, reported once the JSON is known valid
	i = skipWS(frame, i+1)
	if i < len(frame) && frame[i] == '}' {
		if err := checkEnd(frame, i+1); err != nil {
			return d.plainError(frame, err)
		}
		return errorf(ErrBadPlainRequest, `plain request: no "message"`)
	}
	for {
		if i >= len(frame) || frame[i] != '"' {
			return d.plainError(frame, syntaxError(frame, i, "expected object key"))
		}
		kend, kesc, err := scanString(frame, i)
		if err != nil {
			return d.plainError(frame, err)
		}
		key := span{start: i, end: kend, kind: kindString, esc: kesc}
		i = skipWS(frame, kend)
		if i >= len(frame) || frame[i] != ':' {
			return d.plainError(frame, syntaxError(frame, i, "expected ':'"))
		}
		i = skipWS(frame, i+1)
		end, k, _, err := scanValue(frame, i, 1, &budget)
		if err != nil {
			return d.plainError(frame, err)
		}
		if bad == nil {
			bad = d.plainMember(frame, key, span{start: i, end: end, kind: k}, r, &seen)
		}
		i = skipWS(frame, end)
		if i < len(frame) && frame[i] == ',' {
			i = skipWS(frame, i+1)
			continue
		}
		if i < len(frame) && frame[i] == '}' {
			break
		}
		return d.plainError(frame, syntaxError(frame, i, "expected ',' or '}'"))
	}
	if err := checkEnd(frame, i+1); err != nil {
		return d.plainError(frame, err)
	}
	if bad != nil {
		return bad
	}
	return r.check(seen)
}

// check returns the fault of a request whose keys are all known and
// single, seen being their set: no message, tags or metadata that are not
// objects. The faults are looked for in that order, after unknown and
// duplicate keys, as a router has always reported them.
func (r *PlainRequest) check(seen int) error {
	switch {
	case seen&plainMessage == 0:
		return errorf(ErrBadPlainRequest, `plain request: no "message"`)
	case r.Tags != nil && r.Tags[0] != '{':
		return errorf(ErrBadPlainRequest, "plain request: tags must be an object of strings or integers, not %s", kindOf(r.Tags))
	case r.Metadata != nil && r.Metadata[0] != '{':
		return errorf(ErrBadPlainRequest, "plain request: metadata must be an object, not %s", kindOf(r.Metadata))
	}
	return nil
}

// kindOf names the kind of the valid raw JSON value v, for a reason.
func kindOf(v []byte) string {
	switch v[0] {
	case '"':
		return kindName(kindString)
	case 't', 'f':
		return kindName(kindTrue)
	case 'n':
		return kindName(kindNull)
	case '[':
		return kindName(kindArray)
	case '{':
		return kindName(kindObject)
	}
	return kindName(kindNumber)
}

// plainMember takes the member key: v of a plain request into r, and
// returns its fault, if any: an unknown or a duplicate key. seen holds the
// keys met so far.
func (d *Decoder) plainMember(frame []byte, key, v span, r *PlainRequest, seen *int) error {
	name := d.str(frame, key)
	var bit int
	switch string(name) {
	case "message":
		bit = plainMessage
	case "tags":
		bit = plainTags
	case "metadata":
		bit = plainMetadata
	default:
		return errorf(ErrBadPlainRequest, "plain request: unknown key %.40q: only message, tags and metadata", name)
	}
	if *seen&bit != 0 {
		return errorf(ErrBadPlainRequest, "plain request: duplicate key %q", name)
	}
	*seen |= bit
	switch bit {
	case plainMessage:
		r.Message = raw(frame, v)
	case plainTags:
		r.Tags = raw(frame, v)
	case plainMetadata:
		r.Metadata = raw(frame, v)
	}
	return nil
}

// plainError words a scanner error for a plain request: "invalid UTF-8"
// when the frame is not UTF-8 (whichever fault the scanner met first), the
// scanner's own reason otherwise, both after "plain request: ". Error path
// only.
func (d *Decoder) plainError(frame []byte, err error) error {
	switch {
	case err == errBudget:
		return errorf(ErrTooManyElements, "plain request too big: more than %d JSON values", d.Limits.withDefaults().MaxElements)
	case !utf8.Valid(frame):
		return errorf(ErrInvalidJSON, "plain request: invalid UTF-8")
	}
	return errorf(ErrInvalidJSON, "plain request: %s", strings.TrimPrefix(err.Error(), "protocol: "))
}
