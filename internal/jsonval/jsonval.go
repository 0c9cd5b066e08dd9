// Package jsonval encodes application values as WAMP payloads the one way
// the whole module does it: RPC results in the router, call arguments and
// events in the client and its test double.
package jsonval

import (
	"encoding/json"
	"fmt"

	gojson "github.com/goccy/go-json"
)

// Marshal returns the JSON encoding of v with go-json. A json.RawMessage
// (or a pointer to one) is checked and passed through without a copy; a nil
// one is null. The result may alias v's bytes.
func Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case json.RawMessage:
		if v == nil {
			return []byte("null"), nil
		}
		if !gojson.Valid(v) {
			return nil, fmt.Errorf("invalid json.RawMessage %.40q", v)
		}
		return v, nil
	case *json.RawMessage:
		if v != nil {
			return Marshal(*v)
		}
	}
	return gojson.Marshal(v)
}
