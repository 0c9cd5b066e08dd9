package cluster

import "errors"

var (
	// ErrBadMessage is wrapped by the error for a message from the wire
	// that is not a well-formed envelope or breaks a bound (wire.go);
	// such a message is dropped and counted in Stats.Rejected.
	ErrBadMessage = errors.New("cluster: bad message")
	// ErrBusy is RemotePresence's error past Options.MaxPresenceInFlight
	// requests at once: nothing was asked.
	ErrBusy = errors.New("cluster: too many presence requests in flight")
	// ErrNoURLs is NewNATS's error without a server URL.
	ErrNoURLs = errors.New("cluster: no NATS server URL")
)
