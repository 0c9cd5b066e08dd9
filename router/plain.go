package router

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/gobwas/ws"
	gojson "github.com/goccy/go-json"

	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// Plain tag connections (docs/protocol.md#plain-connections, the Gomoob
// dialect): a connection that offers no subprotocol. It is one
// subscription with exactly the tags of its URL and no base; each text
// frame it sends is a request
//
//	{"message": <any JSON>, "tags": {<key>: <string|integer>, ...}, "metadata": {...}}
//
// published with tag set tags (no base). It receives the published message
// alone, as JSON, without envelope.

// plainRequest is a parsed plain request; its fields alias the frame or
// are fresh copies, valid while the request is handled.
type plainRequest struct {
	message  json.RawMessage
	tags     tagindex.Set
	metadata json.RawMessage
}

// plainKeys are the keys a plain request may hold.
var plainKeys = [...]string{"message", "tags", "metadata"}

// parsePlain parses one plain request. Text that is not JSON (or not
// UTF-8) is 1007; JSON that is not a request is 1002, with a reason naming
// the problem.
func parsePlain(b []byte) (plainRequest, protocol.CloseCode, string) {
	if !utf8.Valid(b) {
		return plainRequest{}, protocol.CloseInvalidPayload, "plain request: invalid UTF-8"
	}
	if !gojson.Valid(b) {
		return plainRequest{}, protocol.CloseInvalidPayload, "plain request: invalid JSON"
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return plainRequest{}, protocol.CloseProtocolError,
			`plain request: not a JSON object {"message": ..., "tags": {...}, "metadata": {...}}`
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return plainRequest{}, protocol.CloseInvalidPayload, "plain request: invalid JSON"
	}
	for k := range fields {
		if !slices.Contains(plainKeys[:], k) {
			return plainRequest{}, protocol.CloseProtocolError,
				fmt.Sprintf("plain request: unknown key %.40q: only message, tags and metadata", k)
		}
	}
	var r plainRequest
	var ok bool
	if r.message, ok = fields["message"]; !ok {
		return plainRequest{}, protocol.CloseProtocolError, `plain request: no "message"`
	}
	if raw, ok := fields["tags"]; ok {
		if len(raw) == 0 || raw[0] != '{' {
			return plainRequest{}, protocol.CloseProtocolError, "plain request: tags must be an object of strings or integers"
		}
		var err error
		if r.tags, err = tagindex.ParseJSON(raw); err != nil {
			return plainRequest{}, protocol.CloseProtocolError, "plain request: bad tags: " + err.Error()
		}
	}
	if raw, ok := fields["metadata"]; ok {
		if len(raw) == 0 || raw[0] != '{' {
			return plainRequest{}, protocol.CloseProtocolError, "plain request: metadata must be an object"
		}
		r.metadata = raw
	}
	return r, 0, ""
}

// handlePlain handles one request of a plain tag connection: it goes
// through the topic handler like a PUBLISH, with tag set tags and no base,
// and reaches every subscription, plain or WAMP, whose set contains it;
// the publisher is excluded unless DeliverToPublisher
// (docs/protocol.md#plain-requests). A denied request is dropped and
// counted.
func (srv *Server) handlePlain(w *worker, s *Session, payload []byte) bool {
	r, code, reason := parsePlain(payload)
	if code != 0 {
		s.c.Fail(ws.StatusCode(code), reason)
		return false
	}
	f := &w.fan
	f.pub = Publication{Tags: r.tags, Event: r.message, Metadata: r.metadata}
	if err := srv.topics.Publish(srv.ctx, s, &f.pub); err != nil {
		srv.drop("publish", s, "", err)
	} else {
		var m protocol.Publish // ExcludeDefault: as a PUBLISH without element 3
		srv.deliver(f, w.batch, s, &m)
	}
	f.pub = Publication{}
	return !s.c.Closing()
}

// subscribePlain adds the one subscription of a plain tag connection: its
// URL's tags, no base (docs/protocol.md#plain-connections).
func (srv *Server) subscribePlain(s *Session, tags tagindex.Set) {
	srv.addSubscription(s, &subscription{sess: s, plain: true}, tags)
}

// encodePlain encodes the frame a plain tag connection receives for a
// publication: the event alone, to be shared by its plain receivers.
func encodePlain(event []byte) []byte {
	b := make([]byte, 0, wsconn.MaxFrameHeader+len(event))
	b, off := wsconn.BeginFrame(b)
	b = append(b, event...)
	return wsconn.EndFrame(b, off, ws.OpText)
}
