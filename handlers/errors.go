package handlers

import "errors"

// ErrIPDenied is wrapped by the error IPFilter returns for a connection
// whose remote address it refuses; the router then closes the connection
// unanswered.
var ErrIPDenied = errors.New("handlers: ip address not allowed")
