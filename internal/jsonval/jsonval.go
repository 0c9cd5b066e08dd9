// Package jsonval encodes application values as WAMP payloads. It is a thin
// forwarder to protocol.MarshalPayload, the module's one JSON policy
// (goccy/go-json enters the module through package protocol only), kept
// until router switches to protocol.MarshalPayload; new code must not import
// it. It takes the formal Deprecated mark, then goes, once router no longer
// imports it: the mark now would fail staticcheck (SA1019) in make lint.
package jsonval

import "github.com/tagwamp/tagwamp/protocol"

// Marshal is protocol.MarshalPayload; call that instead.
func Marshal(v any) ([]byte, error) { return protocol.MarshalPayload(v) }
