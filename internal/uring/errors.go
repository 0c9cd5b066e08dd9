package uring

import "errors"

// ErrUnsupported is returned by New where io_uring does not exist (not
// Linux).
var ErrUnsupported = errors.New("uring: io_uring is not supported on this platform")

// ErrClosed is returned by the methods of a Ring after Close.
var ErrClosed = errors.New("uring: ring closed")
