package protocol

import "unicode/utf8"

// Decoder decodes WAMP v1 frames into Messages, and the frames of plain
// tag connections into PlainRequests. Its zero value is ready to use, with
// the default Limits. A Decoder is not safe for concurrent use:
// give each worker its own.
//
// The byte slices of a decoded Message alias the frame or the Decoder's
// scratch buffer (where escaped strings are unescaped); they stay valid until
// the next Decode call on the same Decoder, and as long as the frame is not
// modified.
//
// A Decoder keeps its buffers between calls, so that steady-state decoding
// allocates nothing; Limits.MaxElements bounds how far they grow within one
// call, and a buffer that grew past a fixed size (keepElems entries,
// keepScratch bytes) is dropped at the next call, so that one big frame does
// not pin its memory for the life of the Decoder.
type Decoder struct {
	// Limits bound the cost of one message (docs/protocol.md#limits). The
	// zero value holds the defaults. Set it before the first Decode.
	Limits Limits

	// elems holds the extents of the top-level elements of the frame being
	// decoded; reused across calls.
	elems []span
	// scratch holds the unescaped contents of strings with escapes. It is
	// grown only before its first use in a Decode call, to the frame length,
	// which bounds all unescaped text of the frame, so it is never moved
	// while slices into it are live.
	scratch []byte
}

// The sizes past which a Decoder or a Message drops a reused buffer at the
// next Decode rather than keep it: keepElems entries of a slice, keepScratch
// bytes of unescaped text. keepElems leaves room for append's growth past
// DefaultMaxElements, so that messages within the default limits always
// reuse their buffers.
const (
	keepElems   = 2 * DefaultMaxElements
	keepScratch = 64 << 10
)

// span is the extent of a JSON value in a frame: b[start:end]. For a
// string it includes the quotes, and esc reports escapes in it.
type span struct {
	start, end int
	kind       kind
	esc        bool
}

// Decode decodes one whole frame, a WAMP v1 message (docs/protocol.md#messages),
// into m, overwriting it. The frame must be strictly valid JSON (RFC 8259)
// and an array whose element 0 is a known type id followed by the elements
// that type requires, within d.Limits. On failure it returns an error
// wrapping one of ErrInvalidJSON, ErrNotArray, ErrBadType, ErrBadMessage,
// ErrBadPrefix, ErrTooManyElements or ErrTooManyIDs, whose text names the
// problem; CloseCodeOf maps it to a close code and Reason cuts it for a
// close frame.
//
// Decode does not allocate once the Decoder and m have grown to the sizes
// the frames need. The slices set in m are borrowed (see Message).
func (d *Decoder) Decode(frame []byte, m *Message) error {
	d.reset()
	budget := d.Limits.withDefaults().MaxElements
	i := skipWS(frame, 0)
	if i == len(frame) {
		return errorf(ErrInvalidJSON, "invalid JSON: empty frame")
	}
	if frame[i] != '[' {
		end, k, _, err := scanValue(frame, i, 0, &budget)
		if err != nil {
			return d.scanError(err)
		}
		if err := checkEnd(frame, end); err != nil {
			return err
		}
		return errorf(ErrNotArray, "message is %s, not an array", kindName(k))
	}
	i = skipWS(frame, i+1)
	if i < len(frame) && frame[i] == ']' {
		if err := checkEnd(frame, i+1); err != nil {
			return err
		}
		return errorf(ErrNotArray, "message is an empty array")
	}
	for {
		end, k, esc, err := scanValue(frame, i, 1, &budget)
		if err != nil {
			return d.scanError(err)
		}
		d.elems = append(d.elems, span{start: i, end: end, kind: k, esc: esc})
		i = skipWS(frame, end)
		if i >= len(frame) {
			return syntaxError(frame, i, "unterminated array")
		}
		if frame[i] == ']' {
			break
		}
		if frame[i] != ',' {
			return syntaxError(frame, i, "expected ',' or ']'")
		}
		i = skipWS(frame, i+1)
	}
	if err := checkEnd(frame, i+1); err != nil {
		return err
	}
	return d.message(frame, m)
}

// reset empties d's buffers for a new frame, dropping those that grew past
// keepElems or keepScratch.
func (d *Decoder) reset() {
	if cap(d.elems) > keepElems {
		d.elems = nil
	}
	if cap(d.scratch) > keepScratch {
		d.scratch = nil
	}
	d.elems = d.elems[:0]
	d.scratch = d.scratch[:0]
}

// scanError turns the scanner's errBudget into ErrTooManyElements, with
// the limit in the reason; other errors pass unchanged.
func (d *Decoder) scanError(err error) error {
	if err == errBudget {
		return errorf(ErrTooManyElements, "message too big: more than %d JSON values", d.Limits.withDefaults().MaxElements)
	}
	return err
}

// checkEnd checks that nothing but whitespace follows the value that ends
// at i.
func checkEnd(frame []byte, i int) error {
	if i = skipWS(frame, i); i != len(frame) {
		return syntaxError(frame, i, "data after the message")
	}
	return nil
}

// message interprets the validated elements in d.elems as a message.
func (d *Decoder) message(frame []byte, m *Message) error {
	e := d.elems
	t, err := typeID(frame, e[0])
	if err != nil {
		return err
	}
	m.reset(t)
	n := len(e)
	switch t {
	case TypeWelcome:
		if n != 4 {
			return count(t, n, "4")
		}
		if e[1].kind != kindString {
			return wrongType(t, "sessionId", "a string", e[1])
		}
		if e[2].kind != kindNumber {
			return wrongType(t, "version", "an integer", e[2])
		}
		v, ok := integer(frame[e[2].start:e[2].end])
		if !ok {
			return errorf(ErrBadMessage, "WELCOME: version must be an integer of at most 9 digits, not %s", clip(frame[e[2].start:e[2].end]))
		}
		if e[3].kind != kindString {
			return wrongType(t, "serverIdent", "a string", e[3])
		}
		m.Welcome = Welcome{SessionID: d.str(frame, e[1]), Version: v, ServerIdent: d.str(frame, e[3])}
	case TypePrefix:
		if n != 3 {
			return count(t, n, "3")
		}
		if e[1].kind != kindString {
			return wrongType(t, "prefix", "a string", e[1])
		}
		if e[2].kind != kindString {
			return wrongType(t, "uri", "a string", e[2])
		}
		p := d.str(frame, e[1])
		if !ValidName(p) {
			return errorf(ErrBadPrefix, "PREFIX: %s is not a name", clip(frame[e[1].start:e[1].end]))
		}
		m.Prefix = Prefix{Prefix: p, URI: d.str(frame, e[2])}
	case TypeCall:
		if n < 3 {
			return count(t, n, "at least 3")
		}
		if err := checkCallID(t, e[1]); err != nil {
			return err
		}
		if e[2].kind != kindString {
			return wrongType(t, "procUri", "a string", e[2])
		}
		m.Call.CallID = raw(frame, e[1])
		m.Call.ProcURI = d.str(frame, e[2])
		for _, a := range e[3:] {
			m.Call.Args = append(m.Call.Args, raw(frame, a))
		}
	case TypeCallResult:
		if n != 3 {
			return count(t, n, "3")
		}
		if err := checkCallID(t, e[1]); err != nil {
			return err
		}
		m.CallResult = CallResult{CallID: raw(frame, e[1]), Result: raw(frame, e[2])}
	case TypeCallError:
		if n != 4 && n != 5 {
			return count(t, n, "4 or 5")
		}
		if err := checkCallID(t, e[1]); err != nil {
			return err
		}
		if e[2].kind != kindString {
			return wrongType(t, "errorUri", "a string", e[2])
		}
		if e[3].kind != kindString {
			return wrongType(t, "errorDesc", "a string", e[3])
		}
		m.CallError = CallError{CallID: raw(frame, e[1]), ErrorURI: d.str(frame, e[2]), ErrorDesc: d.str(frame, e[3])}
		if n == 5 {
			m.CallError.ErrorDetails = raw(frame, e[4])
		}
	case TypeSubscribe, TypeUnsubscribe:
		if n != 2 {
			return count(t, n, "2")
		}
		if e[1].kind != kindString {
			return wrongType(t, "topicUri", "a string", e[1])
		}
		if t == TypeSubscribe {
			m.Subscribe.TopicURI = d.str(frame, e[1])
		} else {
			m.Unsubscribe.TopicURI = d.str(frame, e[1])
		}
	case TypePublish:
		return d.publish(frame, m)
	case TypeEvent:
		if n != 3 {
			return count(t, n, "3")
		}
		if e[1].kind != kindString {
			return wrongType(t, "topicUri", "a string", e[1])
		}
		m.Event = Event{TopicURI: d.str(frame, e[1]), Event: raw(frame, e[2])}
	}
	return nil
}

// publish interprets d.elems as a PUBLISH in its four forms
// (docs/protocol.md#publish-options).
func (d *Decoder) publish(frame []byte, m *Message) error {
	e := d.elems
	n := len(e)
	if n < 3 || n > 5 {
		return count(TypePublish, n, "3 to 5")
	}
	if e[1].kind != kindString {
		return wrongType(TypePublish, "topicUri", "a string", e[1])
	}
	p := &m.Publish
	p.TopicURI = d.str(frame, e[1])
	p.Event = raw(frame, e[2])
	if n == 3 {
		return nil
	}
	switch e[3].kind {
	case kindTrue:
		p.Exclude = ExcludeMe
	case kindFalse:
		p.Exclude = ExcludeNone
	case kindArray:
		p.Exclude = ExcludeList
		var err error
		if p.ExcludeIDs, err = d.strList(frame, e[3], p.ExcludeIDs, "exclude"); err != nil {
			return err
		}
	default:
		return wrongType(TypePublish, "exclude", "a boolean or a list", e[3])
	}
	if n == 4 {
		return nil
	}
	if e[3].kind != kindArray {
		return errorf(ErrBadMessage, "PUBLISH: exclude must be a list when eligible is given")
	}
	if e[4].kind != kindArray {
		return wrongType(TypePublish, "eligible", "a list", e[4])
	}
	var err error
	if p.Eligible, err = d.strList(frame, e[4], p.Eligible, "eligible"); err != nil {
		return err
	}
	p.HasEligible = true
	return nil
}

// checkCallID checks the callId element of a CALL, CALLRESULT or
// CALLERROR: a JSON string or number, kept as its raw token and echoed byte
// for byte (docs/protocol.md#call-ids). Any other type is ErrBadMessage.
func checkCallID(t MessageType, s span) error {
	if s.kind != kindString && s.kind != kindNumber {
		return wrongType(t, "callId", "a string or a number", s)
	}
	return nil
}

// typeID reads element 0 as a message type.
func typeID(frame []byte, s span) (MessageType, error) {
	if s.kind != kindNumber {
		return 0, errorf(ErrBadType, "message type must be an integer, not %s", kindName(s.kind))
	}
	b := frame[s.start:s.end]
	if !isInteger(b) {
		return 0, errorf(ErrBadType, "message type must be an integer, not %s", clip(b))
	}
	if v, ok := integer(b); ok && v >= 0 && v <= int(maxType) && b[0] != '-' {
		return MessageType(v), nil
	}
	return 0, errorf(ErrBadType, "unknown message type %s", clip(b))
}

// isInteger reports whether b, a valid JSON number, has neither fraction
// nor exponent.
func isInteger(b []byte) bool {
	for _, c := range b {
		if c == '.' || c|0x20 == 'e' {
			return false
		}
	}
	return true
}

// integer parses b, a valid JSON number, as an integer of at most 9
// digits, which fits an int on every platform: no fraction, no exponent.
func integer(b []byte) (int, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) > 9 {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c-'0' >= 10 {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// raw returns the raw JSON value s of frame, capacity-limited so that an
// append to it cannot overwrite the frame.
func raw(frame []byte, s span) []byte {
	return frame[s.start:s.end:s.end]
}

// str returns the unescaped contents of the string s of frame: a subslice
// of frame when it has no escapes, else of d.scratch. Either way the result
// is capacity-limited.
func (d *Decoder) str(frame []byte, s span) []byte {
	b := frame[s.start+1 : s.end-1 : s.end-1]
	if !s.esc {
		return b
	}
	if cap(d.scratch) < len(frame) {
		// First unescape of this Decode call (the scratch buffer is as long
		// as the frame after it), so no slice into d.scratch is live yet.
		d.scratch = make([]byte, 0, len(frame))
	}
	start := len(d.scratch)
	d.scratch = unescape(d.scratch, b)
	return d.scratch[start:len(d.scratch):len(d.scratch)]
}

// strList appends to dst the unescaped contents of the strings of the array
// s of frame, the PUBLISH list called what. It fails with ErrBadMessage when
// an element is not a string, and with ErrTooManyIDs past d.Limits.MaxIDs
// elements.
func (d *Decoder) strList(frame []byte, s span, dst [][]byte, what string) ([][]byte, error) {
	i := skipWS(frame, s.start+1)
	if frame[i] == ']' {
		return dst, nil
	}
	maxIDs := d.Limits.withDefaults().MaxIDs
	for n := 0; ; n++ {
		if frame[i] != '"' {
			return dst, errorf(ErrBadMessage, "PUBLISH: %s must be a list of strings", what)
		}
		if n == maxIDs {
			return dst, errorf(ErrTooManyIDs, "PUBLISH: more than %d session ids in %s", maxIDs, what)
		}
		end, esc, _ := scanString(frame, i) // validated by scanValue
		dst = append(dst, d.str(frame, span{start: i, end: end, kind: kindString, esc: esc}))
		i = skipWS(frame, end)
		if frame[i] == ']' {
			return dst, nil
		}
		i = skipWS(frame, i+1) // past ','
	}
}

// unescape appends to dst the contents of a valid JSON string (without its
// quotes), with escapes decoded. A \u escape of a lone surrogate becomes
// U+FFFD, as encoding/json does. The result is never longer than s.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		switch c = s[i+1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16IsHigh(r) && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
				if r2 := hex4(s[i+2:]); utf16IsLow(r2) {
					r = (r-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
					i += 6
				}
			}
			if r >= 0xd800 && r < 0xe000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		i += 2
	}
	return dst
}

// hex4 decodes the 4 hex digits at the start of b, already validated.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// utf16IsHigh reports whether r is a high (leading) surrogate.
func utf16IsHigh(r rune) bool { return r >= 0xd800 && r < 0xdc00 }

// utf16IsLow reports whether r is a low (trailing) surrogate.
func utf16IsLow(r rune) bool { return r >= 0xdc00 && r < 0xe000 }

// count is ErrBadMessage for a wrong element count.
func count(t MessageType, n int, want string) error {
	return errorf(ErrBadMessage, "%s: %d elements, want %s", t, n, want)
}

// wrongType is ErrBadMessage for an element of the wrong JSON type.
func wrongType(t MessageType, name, want string, s span) error {
	return errorf(ErrBadMessage, "%s: %s must be %s, not %s", t, name, want, kindName(s.kind))
}

// clip shortens b for an error reason.
func clip(b []byte) string {
	const max = 24
	if len(b) <= max {
		return string(b)
	}
	n := max
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "..."
}
