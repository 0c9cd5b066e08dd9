package router

import (
	"encoding/json"
	"unsafe"

	"github.com/tagwamp/tagwamp/protocol"
)

// ArgsList returns c's arguments as one JSON list, [] for none, copied
// into memory of its own that stays valid after the handler returns: what
// an echo answers (handlers.Echo returns it). The arguments were checked
// when the router decoded the CALL, so the router writes this result as it
// is, where a json.RawMessage result is scanned again; an argument that a
// handler or middleware put in Args itself is not trusted, and the list is
// then checked like any json.RawMessage. Any JSON encoder marshals the
// result as the list.
func (c *Call) ArgsList() any {
	n := 2 + len(c.Args)
	for _, a := range c.Args {
		n += len(a)
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	trusted := len(c.checked) == len(c.Args)
	for i, a := range c.Args {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, a...)
		trusted = trusted && sameBytes(a, c.checked[i])
	}
	b = append(b, ']')
	if !trusted {
		return json.RawMessage(b)
	}
	return checkedJSON(b)
}

// sameBytes reports whether a and b are the same memory, not merely equal
// bytes.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// checkedJSON is a result the router made from JSON it has checked
// (Call.ArgsList): marshalResult writes it as it is.
type checkedJSON []byte

// MarshalJSON returns j itself, for encoders other than the router's.
func (j checkedJSON) MarshalJSON() ([]byte, error) { return j, nil }

// marshalResult returns the JSON of an RPC handler's result: a checkedJSON
// as it is, anything else through protocol.MarshalPayload (which checks a
// json.RawMessage).
func marshalResult(result any) ([]byte, error) {
	if j, ok := result.(checkedJSON); ok {
		return j, nil
	}
	return protocol.MarshalPayload(result)
}
