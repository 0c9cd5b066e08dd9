package handlers

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// Func adapts a typed function to router.RPCHandler, decoding the call's
// arguments into an A with protocol.Unmarshal (go-json). How depends on A's
// kind:
//
//   - A slice or array type other than a byte slice (such as []int, []any,
//     [2]string) takes all the arguments, in order, as if they were one JSON
//     array: [CALL, id, uri, 1, 2, 3] gives []int{1, 2, 3}, and a call
//     without arguments gives an empty slice. A single list argument is one
//     argument (docs/protocol.md#call-args): [CALL, id, uri, [1, 2]] into
//     []int fails, into [][]int gives [][]int{{1, 2}}.
//   - Any other type (a struct, a map, a string, a number, any,
//     json.RawMessage, ...) takes exactly one argument: the call must have
//     one. Struct fields follow go-json's rules (json tags); unknown fields
//     are ignored.
//
// Arguments that do not decode answer the call with a *protocol.Error whose
// URI is protocol.ErrorURIInvalidArgument and whose description says what was
// wrong, without calling f. The result R is marshaled by the router; errors
// from f are answered as router.RPCHandler describes.
//
// The decoded A owns its memory: f may keep it after returning.
//
//	m.Handle("http://example.com/calc#add", handlers.Func(
//		func(ctx context.Context, s *router.Session, xs []float64) (float64, error) {
//			var sum float64
//			for _, x := range xs {
//				sum += x
//			}
//			return sum, nil
//		}))
func Func[A, R any](f func(ctx context.Context, s *router.Session, args A) (R, error)) router.RPCHandler {
	if f == nil {
		panic("handlers: Func: nil func")
	}
	seq := takesAllArgs(reflect.TypeFor[A]())
	return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		var a A
		if err := decodeArgs(c, seq, &a); err != nil {
			return nil, err
		}
		return f(ctx, s, a)
	})
}

// takesAllArgs reports whether Func decodes all arguments into t (a slice
// or array of non-bytes) rather than exactly one.
func takesAllArgs(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8
	case reflect.Array:
		return true
	}
	return false
}

// decodeArgs decodes c.Args into dst as Func describes.
func decodeArgs(c *router.Call, seq bool, dst any) error {
	if !seq {
		if len(c.Args) != 1 {
			return protocol.NewError(protocol.ErrorURIInvalidArgument,
				"want 1 argument, got "+strconv.Itoa(len(c.Args)))
		}
		if err := protocol.Unmarshal(c.Args[0], dst); err != nil {
			return protocol.NewError(protocol.ErrorURIInvalidArgument, "argument: "+err.Error())
		}
		return nil
	}
	if err := protocol.Unmarshal(joinArgs(c.Args), dst); err != nil {
		return protocol.NewError(protocol.ErrorURIInvalidArgument, "arguments: "+err.Error())
	}
	return nil
}

// joinArgs returns the arguments as one freshly allocated JSON array.
func joinArgs(args []json.RawMessage) json.RawMessage {
	n := 2 + len(args)
	for _, a := range args {
		n += len(a)
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, a...)
	}
	return append(b, ']')
}
