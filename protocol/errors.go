package protocol

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// CloseCode is a WebSocket close status code (RFC 6455 §7.4.1), the code a
// router closes a session with after a protocol violation
// (docs/protocol.md#close-codes).
type CloseCode uint16

// The close codes of RFC 6455 §7.4.1 a WAMP v1 router uses.
const (
	// CloseNormal (1000): the session ended normally.
	CloseNormal CloseCode = 1000
	// CloseGoingAway (1001): the server shuts down.
	CloseGoingAway CloseCode = 1001
	// CloseProtocolError (1002): a WAMP protocol violation: not an array,
	// bad type id, wrong elements (docs/protocol.md#close-codes).
	CloseProtocolError CloseCode = 1002
	// CloseUnsupportedData (1003): a binary frame
	// (docs/protocol.md#close-codes).
	CloseUnsupportedData CloseCode = 1003
	// CloseInvalidPayload (1007): not valid JSON or not valid UTF-8
	// (docs/protocol.md#close-codes).
	CloseInvalidPayload CloseCode = 1007
	// ClosePolicyViolation (1008): a limit of the router, like MaxPrefixes.
	ClosePolicyViolation CloseCode = 1008
	// CloseMessageTooBig (1009): a frame over the size limit
	// (docs/protocol.md#close-codes).
	CloseMessageTooBig CloseCode = 1009
	// CloseInternalError (1011): a fault of the server.
	CloseInternalError CloseCode = 1011
)

// MaxReason is the longest reason Reason returns, in bytes. A close frame
// has room for 123 bytes of reason (RFC 6455 §5.5); 120 keeps a margin.
const MaxReason = 120

// The sentinel errors of decoding. Decode returns errors that wrap exactly
// one of them, with a short reason naming the problem; test with errors.Is
// and map to a close code with CloseCodeOf.
var (
	// ErrInvalidJSON: the frame is not strictly valid JSON (RFC 8259): a
	// syntax error, bad UTF-8 in a string, a control character in a string,
	// data after the closing bracket, or nesting deeper than 512 levels.
	// Close with 1007 (docs/protocol.md#close-codes).
	ErrInvalidJSON = errors.New("protocol: invalid JSON")
	// ErrNotArray: the frame is valid JSON but not an array, or the empty
	// array. Close with 1002 (docs/protocol.md#close-codes).
	ErrNotArray = errors.New("protocol: message is not a non-empty array")
	// ErrBadType: element 0 is not a JSON integer or not a known type id.
	// Close with 1002 (docs/protocol.md#close-codes).
	ErrBadType = errors.New("protocol: bad message type")
	// ErrBadMessage: wrong element count, or an element of the wrong type for
	// the message type. Close with 1002 (docs/protocol.md#close-codes).
	ErrBadMessage = errors.New("protocol: bad message")
	// ErrBadPrefix: a PREFIX name is not a name (see ValidName). Close with
	// 1002 (docs/protocol.md#curies).
	ErrBadPrefix = errors.New("protocol: bad CURIE prefix")
	// ErrTooManyPrefixes: a session defined more than its limit of prefixes
	// (Prefixes.Max, by default MaxPrefixes).
	// Close with 1008 (docs/protocol.md#curies).
	ErrTooManyPrefixes = errors.New("protocol: too many CURIE prefixes")
	// ErrBadPlainRequest: a plain tag connection's frame is valid JSON but
	// not a request: not an object, no "message", an unknown or duplicate
	// key, tags or metadata that are not objects. Close with 1002
	// (docs/protocol.md#plain-requests).
	ErrBadPlainRequest = errors.New("protocol: bad plain request")
	// ErrTooManyElements: a message or plain request holds more JSON values
	// than Limits.MaxElements, nested ones included; the decoder stopped at
	// the first one over. The message is too big to process: close with
	// 1009 (docs/protocol.md#limits).
	ErrTooManyElements = errors.New("protocol: too many JSON values")
	// ErrTooManyIDs: a PUBLISH exclude or eligible list holds more session
	// ids than Limits.MaxIDs. Close with 1002 (docs/protocol.md#limits).
	ErrTooManyIDs = errors.New("protocol: too many session ids")
	// ErrURITooLong: a PREFIX URI, or a URI or topic once its CURIE is
	// resolved, is longer than Prefixes.MaxURILen. Close with 1002, or answer
	// a CALL with a CALLERROR (docs/protocol.md#limits).
	ErrURITooLong = errors.New("protocol: URI too long")
)

// CloseCodeOf maps an error to the WebSocket close code a router sends for
// it (docs/protocol.md#close-codes), through errors.Is: ErrInvalidJSON is
// 1007; ErrNotArray, ErrBadType, ErrBadMessage, ErrBadPrefix,
// ErrBadPlainRequest, ErrTooManyIDs and ErrURITooLong are 1002;
// ErrTooManyPrefixes is 1008; ErrTooManyElements is 1009; nil is 1000;
// anything else is 1011.
func CloseCodeOf(err error) CloseCode {
	switch {
	case err == nil:
		return CloseNormal
	case errors.Is(err, ErrInvalidJSON):
		return CloseInvalidPayload
	case errors.Is(err, ErrNotArray), errors.Is(err, ErrBadType),
		errors.Is(err, ErrBadMessage), errors.Is(err, ErrBadPrefix),
		errors.Is(err, ErrBadPlainRequest), errors.Is(err, ErrTooManyIDs),
		errors.Is(err, ErrURITooLong):
		return CloseProtocolError
	case errors.Is(err, ErrTooManyPrefixes):
		return ClosePolicyViolation
	case errors.Is(err, ErrTooManyElements):
		return CloseMessageTooBig
	default:
		return CloseInternalError
	}
}

// Reason returns err.Error() cut to at most MaxReason bytes on a UTF-8
// boundary, fit for the reason of a close frame. Reason(nil) is "".
func Reason(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) <= MaxReason {
		return s
	}
	n := MaxReason
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// wireError is a decoding error: one sentinel and the reason that names the
// problem.
type wireError struct {
	sentinel error
	reason   string
}

// Error returns the reason.
func (e *wireError) Error() string { return e.reason }

// Unwrap returns the sentinel.
func (e *wireError) Unwrap() error { return e.sentinel }

// errorf returns a wireError wrapping sentinel, with the reason
// "protocol: " followed by the formatted text. Error path only.
func errorf(sentinel error, format string, args ...any) error {
	return &wireError{sentinel: sentinel, reason: "protocol: " + fmt.Sprintf(format, args...)}
}
