package router

import (
	"fmt"

	"github.com/gobwas/ws"

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
// decoded in one pass by protocol.Decoder.DecodePlain and published with
// tag set tags (no base). It receives the published message alone, as
// JSON, without envelope.

// handlePlain handles one request of a plain tag connection: it goes
// through the topic handler like a PUBLISH, with tag set tags and no base,
// and reaches every subscription, plain or WAMP, whose set contains it;
// the publisher is excluded unless DeliverToPublisher
// (docs/protocol.md#plain-requests). A denied request is dropped and
// counted.
func (srv *Server) handlePlain(w *worker, s *Session, payload []byte) bool {
	var r protocol.PlainRequest
	if err := w.dec.DecodePlain(payload, &r); err != nil {
		srv.violation(s, err)
		return false
	}
	var tags tagindex.Set
	if r.Tags != nil {
		var err error
		if tags, err = tagindex.ParseJSONLimits(r.Tags, srv.tlimits); err != nil {
			srv.violation(s, fmt.Errorf("%w: bad tags: %w", protocol.ErrBadPlainRequest, err))
			return false
		}
	}
	f := &w.fan
	f.pub = Publication{Tags: tags, Event: r.Message, Metadata: r.Metadata}
	w.tw.Handoff() // the topic handler may call out, the fan-out may be long
	if err := srv.topics.Publish(srv.ctx, s, &f.pub); err != nil {
		srv.drop("publish", s, "", err)
	} else {
		var m protocol.Publish // ExcludeDefault: as a PUBLISH without element 3
		srv.deliver(f, w.batch, s, &m)
		if srv.opts.Broker != nil {
			srv.forward(f, s, &m)
		}
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
