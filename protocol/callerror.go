package protocol

import "fmt"

// The error URIs a router answers a failed CALL with
// (docs/protocol.md#errors).
const (
	// ErrorURINoSuchProcedure: nobody registered the procedure; the desc
	// is "no procedure registered for <uri>".
	ErrorURINoSuchProcedure = "http://api.wamp.ws/error#NoSuchRPCEndpoint"
	// ErrorURIInternal: a handler panicked or the server failed; the desc
	// leaks no internals.
	ErrorURIInternal = "http://api.wamp.ws/error#internal"
	// ErrorURINotAuthorized: authorization denied the call.
	ErrorURINotAuthorized = "http://api.wamp.ws/error#not-authorized"
	// ErrorURITimeout: the call did not finish in time.
	ErrorURITimeout = "http://api.wamp.ws/error#timeout"
	// ErrorURIInvalidArgument: the handler rejected the arguments.
	ErrorURIInvalidArgument = "http://api.wamp.ws/error#invalid-argument"
	// ErrorURIBusy answers a CALL the server could not start: too many
	// calls were running (tagwamp's own URI; WAMP v1 defines none).
	ErrorURIBusy = "http://tagwamp.dev/error#busy"
)

// Error is a WAMP CALLERROR a procedure handler returns
// (docs/protocol.md#errors); the router answers the call with its URI, Desc
// and Details. Any other error a handler returns becomes ErrorURIInternal,
// with no internals leaked.
type Error struct {
	// URI is the error URI, like ErrorURIInvalidArgument.
	URI string
	// Desc is a human-readable description; it is always sent, even empty.
	Desc string
	// Details is any value MarshalPayload can marshal, sent as
	// errorDetails; nil, or a value that marshals to null, omits
	// errorDetails (docs/protocol.md#messages).
	Details any
}

// Error returns "protocol: call error <URI>: <Desc>".
func (e *Error) Error() string {
	return "protocol: call error " + e.URI + ": " + e.Desc
}

// NewError returns an Error with the given URI and description and no
// details.
func NewError(uri, desc string) *Error {
	return &Error{URI: uri, Desc: desc}
}

// AppendError appends the CALLERROR answering callID (the raw token, as in
// Call.CallID, copied byte for byte) with e's URI, Desc and Details,
// marshaling Details with MarshalPayload. It returns dst unchanged and the
// marshaling error when Details cannot be marshaled; the router then
// answers with ErrorURIInternal.
func AppendError(dst, callID []byte, e *Error) ([]byte, error) {
	var details []byte
	if e.Details != nil {
		var err error
		details, err = MarshalPayload(e.Details)
		if err != nil {
			return dst, fmt.Errorf("protocol: marshal CALLERROR details: %w", err)
		}
	}
	return AppendCallError(dst, callID, e.URI, e.Desc, details), nil
}
