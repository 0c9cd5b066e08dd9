package router

import (
	"fmt"
	"sync/atomic"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
)

// Reply answers a call later than its handler returns: a handler that
// must not hold a worker while it waits (a delayed authentication failure,
// a result from elsewhere) calls Call.Defer, returns at once, and sends the
// answer through the Reply from any goroutine. Every CALL still gets
// exactly one CALLRESULT or CALLERROR (docs/protocol.md#call-ids): the
// first Send answers, later ones are ignored. The handler owns that duty:
// the router neither times a deferred call out nor answers it on the
// handler's behalf, except with ...error#internal when the handler panics
// after deferring.
type Reply struct {
	srv  *Server
	sess *Session
	id   []byte // a copy of the call id
	uri  string
	sent atomic.Bool
}

// Defer tells the router not to answer c when the handler returns, and
// returns the Reply that will. The handler's own result and error are then
// ignored (return nil, nil). Call it only while the handler runs; a second
// call returns the same Reply. For a Call the router did not dispatch (a
// test's &Call{...}) it returns a Reply whose Send does nothing.
func (c *Call) Defer() *Reply {
	if c.reply == nil {
		c.reply = &Reply{srv: c.srv, sess: c.sess, id: append([]byte(nil), c.id...), uri: c.URI}
	}
	return c.reply
}

// Send queues the answer as a handler's return would: a CALLRESULT with
// result marshaled to JSON, or, when err is not nil, the CALLERROR that err
// maps to (see RPCHandler). It reports whether this Send answered the call:
// false after an earlier Send, or when the session is gone.
func (r *Reply) Send(result any, err error) bool {
	if r.sess == nil || !r.sent.CompareAndSwap(false, true) {
		return false
	}
	buf, off := wsconn.BeginFrame(nil)
	if err == nil {
		var raw []byte
		if raw, err = marshalResult(result); err == nil {
			buf = protocol.AppendCallResult(buf, r.id, raw)
		} else {
			err = fmt.Errorf("router: marshaling the result of %s: %w", r.uri, err)
		}
	}
	if err != nil {
		buf = r.srv.appendCallError(buf, r.sess, r.id, r.uri, err)
	}
	return r.sess.c.Write(wsconn.EndFrame(buf, off, ws.OpText))
}
