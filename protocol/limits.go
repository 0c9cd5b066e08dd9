package protocol

import "math"

// The defaults of Limits (docs/protocol.md#limits).
const (
	// DefaultMaxElements is the default of Limits.MaxElements: the JSON
	// values one message may hold, nested ones included.
	DefaultMaxElements = 4096
	// DefaultMaxIDs is the default of Limits.MaxIDs: the session ids of
	// one PUBLISH exclude list, and of one eligible list.
	DefaultMaxIDs = 4096
	// DefaultMaxURILen is the default of Prefixes.MaxURILen, in bytes: the
	// longest PREFIX URI, and the longest URI or topic once its CURIE is
	// resolved.
	DefaultMaxURILen = 4096
)

// Limits bound the work one message may ask of a Decoder and of a
// session's Prefixes, so that no client chooses a cost: a count or a length
// over a limit is refused before the work it would cost is done
// (docs/protocol.md#limits). The zero value holds the defaults; every field
// says its default and how to turn it off. A router sets one Limits from its
// configuration on each Decoder and each Prefixes before their first use.
//
// Nesting needs no field: it is bounded by MaxDepth, always.
type Limits struct {
	// MaxElements bounds the JSON values of one message or plain request:
	// every element of the message array (or member of the request object)
	// and, nested, every element of an array and every member of an object.
	// The scanner counts them as it goes and stops at the first one over the
	// limit, so a frame of a million arguments costs no more than one of
	// MaxElements, and no slice grows past it; the error wraps
	// ErrTooManyElements (close 1009). Default DefaultMaxElements (4096);
	// negative: no limit.
	MaxElements int
	// MaxIDs bounds the session ids of a PUBLISH exclude list, and those of
	// its eligible list, each; over it the error wraps ErrTooManyIDs (close
	// 1002). MaxElements bounds them too. Default DefaultMaxIDs (4096);
	// negative: no limit.
	MaxIDs int
}

// withDefaults returns l with zero fields set to their defaults and
// negative ones (no limit) to math.MaxInt.
func (l Limits) withDefaults() Limits {
	l.MaxElements = limit(l.MaxElements, DefaultMaxElements)
	l.MaxIDs = limit(l.MaxIDs, DefaultMaxIDs)
	return l
}

// limit resolves one field of Limits: 0 is def, a negative value no limit.
func limit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return math.MaxInt
	}
	return v
}
