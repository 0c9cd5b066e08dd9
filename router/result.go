package router

import (
	"encoding/json"
	"unsafe"

	"github.com/tagwamp/tagwamp/protocol"
)

// ArgsList returns c's arguments as one JSON list, [] for none, copied
// into memory of its own that stays valid after the handler returns: what
// an echo answers (handlers.Echo returns it). Any JSON encoder marshals
// the result as the list.
//
// The arguments were checked when the router decoded the CALL, so the
// router writes this result as it is, where a json.RawMessage result is
// scanned again; an argument that a handler or middleware put in Args
// itself is not trusted, and the list is then checked like any
// json.RawMessage (a handler that writes into the frame's bytes of Args
// must not use ArgsList). For a call the router dispatched, the copy is carved
// out of blocks the worker allocates now and then rather than allocated
// per call (a result kept holds its block, a few KiB, as long as it is
// kept). Call it while the handler runs, on its goroutine: like Args, it
// is the handler's only until it returns.
func (c *Call) ArgsList() any {
	n := 2 // the brackets, the commas and the values
	trusted := len(c.checked) == len(c.Args)
	for i, a := range c.Args {
		n += len(a)
		if i > 0 {
			n++
		}
		trusted = trusted && sameBytes(a, c.checked[i])
	}
	if !trusted {
		return json.RawMessage(appendList(make([]byte, 0, n), c.Args))
	}
	l, b := c.slab.list(n)
	l.b = appendList(b, c.Args)
	return l
}

// appendList appends args to b as one JSON list.
func appendList(b []byte, args []json.RawMessage) []byte {
	b = append(b, '[')
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, a...)
	}
	return append(b, ']')
}

// sameBytes reports whether a and b are the same memory, not merely equal
// bytes.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// checkedList is a result the router made from JSON it has checked
// (Call.ArgsList): marshalResult writes it as it is.
type checkedList struct{ b []byte }

// MarshalJSON returns the list, for encoders other than the router's.
func (l *checkedList) MarshalJSON() ([]byte, error) { return l.b, nil }

// marshalResult returns the JSON of an RPC handler's result: a
// *checkedList as it is, anything else through protocol.MarshalPayload
// (which checks a json.RawMessage).
func marshalResult(result any) ([]byte, error) {
	if l, ok := result.(*checkedList); ok && l != nil {
		return l.b, nil
	}
	return protocol.MarshalPayload(result)
}

// resultSlab is a worker's source of ArgsList results: it carves them out
// of blocks, one allocation per block instead of two per call. A block is
// never reused, only dropped when carved out: a result that a handler or
// middleware keeps keeps its block alive, as it would its own allocation,
// and nothing else ever writes there.
type resultSlab struct {
	lists []checkedList // the uncarved rest of the current block of results
	bytes []byte        // the uncarved rest of the current block of bytes
	// blocks counts the blocks of bytes allocated: they grow from
	// slabBytes/8 to slabBytes, so that a worker answering a few echoes
	// (the pool has thousands of workers while handlers block) holds
	// little.
	blocks int
}

// The blocks of a resultSlab: up to slabLists results and slabBytes
// bytes, the first ones 1/8 of that; a list longer than maxSlabList bytes
// is allocated on its own.
const (
	slabLists   = 128
	slabBytes   = 8 << 10
	maxSlabList = 512
)

// list returns a result and an empty slice with room for n bytes, carved
// from s's blocks, or allocated when s is nil (a Call the router did not
// dispatch, a backend's call) or n is over maxSlabList.
func (s *resultSlab) list(n int) (*checkedList, []byte) {
	if s == nil || n > maxSlabList {
		return new(checkedList), make([]byte, 0, n)
	}
	if len(s.lists) == 0 {
		s.lists = make([]checkedList, slabLists>>max(0, 3-s.blocks))
	}
	if len(s.bytes) < n {
		s.bytes = make([]byte, slabBytes>>max(0, 3-s.blocks))
		s.blocks++
	}
	l := &s.lists[0]
	s.lists = s.lists[1:]
	b := s.bytes[:0:n]
	s.bytes = s.bytes[n:]
	return l, b
}
