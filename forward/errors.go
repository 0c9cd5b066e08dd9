package forward

import "errors"

var (
	// ErrOptions is wrapped by New's errors for Options it cannot use,
	// each naming the field.
	ErrOptions = errors.New("forward: bad options")
	// ErrRefused is the error a topic handler returns for a SUBSCRIBE
	// the subscribe hook refused (or that failed with OnError Refuse); the
	// router drops it (docs/protocol.md#dropped-messages).
	ErrRefused = errors.New("forward: refused by the subscribe hook")
	// ErrBoundTag drops a SUBSCRIBE or PUBLISH whose topic names a tag
	// the connect hook bound to the session with another value, as
	// docs/protocol.md#bound-tags says of a token's.
	ErrBoundTag = errors.New("forward: topic names another value of a tag the connect hook bound to the session")
	// ErrBusy is a hook question refused because MaxInFlight are running;
	// the hook's OnError decides.
	ErrBusy = errors.New("forward: too many requests in flight")
	// ErrTooLarge is a backend's answer over MaxResponseBytes.
	ErrTooLarge = errors.New("forward: answer over MaxResponseBytes")
	// ErrStatus is a backend's answer whose status is not 2xx.
	ErrStatus = errors.New("forward: answer status is not 2xx")
	// ErrBadAnswer is a backend's 2xx answer that is not the JSON object
	// the package doc describes.
	ErrBadAnswer = errors.New("forward: malformed answer")
	// ErrClosed is a request made after Close.
	ErrClosed = errors.New("forward: closed")
)
