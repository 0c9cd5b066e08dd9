//go:build !linux

package uring

import "time"

// Params configures New.
type Params struct {
	Entries uint32
	SQPoll  bool
	SQIdle  time.Duration
}

// Ring is never made outside Linux.
type Ring struct{}

// New fails outside Linux.
func New(Params) (*Ring, error) { return nil, ErrUnsupported }
