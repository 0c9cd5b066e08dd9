package client

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error the package returns for one of these reasons
// wraps the sentinel with context (the operation, the URI), so test them with
// errors.Is.
var (
	// ErrClosed is returned by every method of a Client whose connection has
	// ended, by Close or by the server or the network, and by calls that were
	// pending when it ended. When the end had another cause (a close frame
	// from the server, an I/O error), the returned error wraps that cause as
	// well; Err reports it alone.
	ErrClosed = errors.New("client: closed")

	// ErrSubprotocol is returned by Dial when the server completed the
	// WebSocket handshake without selecting the "wamp" subprotocol: it is not
	// a WAMP v1 server, or not one for this URL (docs/protocol.md#subprotocol).
	ErrSubprotocol = errors.New("client: server did not select the wamp subprotocol")

	// ErrWelcome is returned by Dial when the first message from the server
	// is not a WELCOME (docs/protocol.md#welcome).
	ErrWelcome = errors.New("client: first server message is not a WELCOME")

	// ErrVersion is returned by Dial when the WELCOME announces a protocol
	// version other than 1.
	ErrVersion = errors.New("client: unsupported WAMP protocol version")

	// ErrProtocol reports a server that broke the protocol after the
	// handshake: a frame that does not decode as a WAMP v1 message, a binary
	// frame, a message over the size limit. The client closes the connection
	// with the matching status code and Err wraps ErrProtocol.
	ErrProtocol = errors.New("client: protocol violation by the server")

	// ErrBadPrefix is returned by Prefix for a prefix that is not a name
	// (docs/protocol.md#curies): the server would close the session with
	// 1002.
	ErrBadPrefix = errors.New("client: invalid CURIE prefix")

	// ErrTooManyPrefixes is returned by Prefix when the session already has
	// MaxPrefixes prefixes and the new one is not a redefinition.
	ErrTooManyPrefixes = errors.New("client: too many CURIE prefixes")

	// ErrSubscribed is returned by Subscribe for a topic (after CURIE
	// resolution) this client is already subscribed to; the server would
	// treat the second SUBSCRIBE as a no-op
	// (docs/protocol.md#dropped-messages).
	ErrSubscribed = errors.New("client: already subscribed")

	// ErrNotSubscribed is returned by Unsubscribe for a topic this client is
	// not subscribed to.
	ErrNotSubscribed = errors.New("client: not subscribed")

	// ErrNilHandler is returned by Subscribe when the handler is nil.
	ErrNilHandler = errors.New("client: nil event handler")

	// ErrDuplicateCallID is returned by Call when the call ID generator set
	// with WithCallIDs returned an ID that is still in flight.
	ErrDuplicateCallID = errors.New("client: duplicate call id")
)

// CloseError is the cause reported by Err when the server closed the
// connection with a close frame. Code is the WebSocket status code (1005 when
// the frame carried none), Reason its text.
type CloseError struct {
	Code   int
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	s := "client: server closed the connection: " + strconv.Itoa(e.Code)
	if e.Reason != "" {
		s += " " + e.Reason
	}
	return s
}
