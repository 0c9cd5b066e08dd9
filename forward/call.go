package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// callRequest is the body POSTed for a CALL.
type callRequest struct {
	Procedure string            `json:"procedure"`
	Args      []json.RawMessage `json:"args"`
	Session   sessionInfo       `json:"session"`
}

// callAnswer is a service's answer to a CALL: exactly one of its fields.
type callAnswer struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		URI     string          `json:"uri"`
		Desc    string          `json:"desc"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

var errInternal = protocol.NewError(protocol.ErrorURIInternal, "internal error")

// middleware forwards the calls under a route's prefix and passes the
// others to next.
func (f *Forwarder) middleware(next router.RPCHandler) router.RPCHandler {
	return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		b := f.route(c.URI)
		if b == nil {
			return next.ServeCall(ctx, s, c)
		}
		return f.forward(ctx, s, c, b)
	})
}

// forward encodes c while its arguments are still valid, defers it, and
// answers it from a goroutine of its own once b has: the worker goes back
// to the pool at once (router.Call.Defer).
func (f *Forwarder) forward(ctx context.Context, s *router.Session, c *router.Call, b *backend) (any, error) {
	if !b.acquire() {
		f.observe(b, OutcomeBusy, 0)
		return nil, protocol.NewError(protocol.ErrorURIBusy, "backend "+b.name+" is busy")
	}
	args := c.Args
	if args == nil {
		args = []json.RawMessage{}
	}
	body, err := json.Marshal(callRequest{Procedure: c.URI, Args: args, Session: sessionOf(s)})
	if err != nil {
		b.release()
		return nil, fmt.Errorf("forward: encoding the call: %w", err)
	}
	deadline := time.Now().Add(b.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d // the router's CallTimeout
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		b.release()
		f.observe(b, OutcomeBusy, 0)
		return nil, errShuttingDown
	}
	f.wg.Add(1)
	f.mu.Unlock()
	reply, uri := c.Defer(), c.URI
	go func() {
		defer f.wg.Done()
		defer b.release()
		ctx, cancel := context.WithDeadline(f.ctx, deadline)
		defer cancel()
		start := time.Now()
		res, o, err := f.answer(ctx, b, uri, body)
		f.observe(b, o, time.Since(start))
		reply.Send(res, err)
	}()
	return nil, nil
}

// errShuttingDown answers the calls that come after Shutdown.
var errShuttingDown = protocol.NewError(protocol.ErrorURIBusy, "server shutting down")

// answer POSTs a call's body to b and turns the answer into the call's
// result or CALLERROR, and says how the call ended. Nothing of a failure
// reaches the caller but ...#timeout or ...#internal; the log has the
// rest.
func (f *Forwarder) answer(ctx context.Context, b *backend, uri string, body []byte) (any, Outcome, error) {
	resp, err := b.post(ctx, body, f.maxBody)
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		f.log.Warn("forward: call timed out", "backend", b.name, "procedure", logval.String(uri))
		return nil, OutcomeTimeout, protocol.NewError(protocol.ErrorURITimeout, "call timed out")
	case f.ctx.Err() != nil:
		f.log.Warn("forward: call cut short by shutdown", "backend", b.name, "procedure", logval.String(uri))
		return nil, OutcomeUnavailable, errInternal
	case errors.Is(err, ErrTooLarge):
		f.log.Error("forward: call failed", "backend", b.name, "procedure", logval.String(uri), "err", err)
		return nil, OutcomeBadAnswer, errInternal
	default:
		f.log.Error("forward: call failed", "backend", b.name, "procedure", logval.String(uri), "err", err)
		return nil, OutcomeUnavailable, errInternal
	}
	var a callAnswer
	if err := json.Unmarshal(resp, &a); err != nil {
		return nil, OutcomeBadAnswer, f.malformed(b, uri, resp, err.Error())
	}
	switch {
	case a.Error != nil && a.Error.URI != "":
		pe := &protocol.Error{URI: a.Error.URI, Desc: a.Error.Desc}
		if len(a.Error.Details) > 0 && string(a.Error.Details) != "null" {
			pe.Details = a.Error.Details
		}
		return nil, OutcomeError, pe
	case a.Error != nil:
		return nil, OutcomeBadAnswer, f.malformed(b, uri, resp, "error without a uri")
	case a.Result != nil:
		return a.Result, OutcomeOK, nil
	}
	return nil, OutcomeBadAnswer, f.malformed(b, uri, resp, `neither "result" nor "error"`)
}

// malformed logs a 2xx answer that is not a call's answer and returns
// the CALLERROR it gives the caller.
func (f *Forwarder) malformed(b *backend, uri string, resp []byte, why string) error {
	f.log.Error("forward: call failed", "backend", b.name, "procedure", logval.String(uri),
		"err", fmt.Errorf("%w: %s", ErrBadAnswer, why), "body", logval.String(string(resp)))
	return errInternal
}
