package protocol

import (
	"encoding/json"
	"fmt"
	"math"

	gojson "github.com/goccy/go-json"
)

// This file is the module's one JSON policy (docs/protocol.md#encode-once):
// goccy/go-json enters the module through this package only, and the other
// packages marshal payloads, unmarshal values and validate raw JSON with the
// functions below, so that every package agrees on what JSON is.

// MarshalPayload returns the JSON encoding of v as a WAMP payload: an RPC
// result, a call argument, an event, error details. It marshals with
// go-json, except a json.RawMessage (or a pointer to one), which is checked
// with Valid and passed through without a copy, so that the result may alias
// v's bytes; a nil one is null.
func MarshalPayload(v any) ([]byte, error) {
	switch v := v.(type) {
	case json.RawMessage:
		if v == nil {
			return []byte("null"), nil
		}
		if !Valid(v) {
			return nil, fmt.Errorf("protocol: invalid json.RawMessage %.40q", v)
		}
		return v, nil
	case *json.RawMessage:
		if v != nil {
			return MarshalPayload(*v)
		}
	}
	return gojson.Marshal(v)
}

// Unmarshal decodes the JSON value data into v with go-json, following
// encoding/json's rules (struct tags, json.Unmarshaler, a json.RawMessage
// kept as it is).
func Unmarshal(data []byte, v any) error {
	return gojson.Unmarshal(data, v)
}

// Valid reports whether data is one JSON value that the Decoder accepts as
// an element of a message: strictly valid JSON (RFC 8259) in UTF-8,
// whitespace around it allowed, nested at most MaxDepth-1 deep (the message
// array takes one level). It applies no Limits and does not allocate.
func Valid(data []byte) bool {
	i := skipWS(data, 0)
	budget := math.MaxInt
	end, _, _, err := scanValue(data, i, 1, &budget)
	return err == nil && skipWS(data, end) == len(data)
}
