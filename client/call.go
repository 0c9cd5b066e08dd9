package client

import (
	"context"
	"fmt"

	"github.com/tagwamp/tagwamp/protocol"
)

// Call calls the procedure procURI (a URI or a CURIE of a prefix defined
// with Prefix) with args and waits for its CALLRESULT or CALLERROR
// (docs/protocol.md#call-ids).
//
// Each arg is marshaled with protocol.MarshalPayload: with goccy/go-json,
// except a json.RawMessage, which is sent as is (it must be valid JSON; nil
// stands for null). A single slice
// argument is one argument, a JSON array. When result is not nil the
// CALLRESULT's result is unmarshaled into it with protocol.Unmarshal, as
// json.Unmarshal would.
//
// A CALLERROR is returned as a *protocol.Error, as is (not wrapped), with
// Details unmarshaled into an any when the server sent some; the connection
// stays up. When ctx ends first, Call returns
// ctx.Err() and forgets the call: its reply, if one comes, is dropped. When
// the connection ends first, the error wraps ErrClosed. Many calls may be in
// flight at once, from any goroutines; replies are matched by call ID, in
// whatever order they come.
//
// Call must not be called from an event handler and waited for there: the
// reply is read by the goroutine that runs the handler.
func (c *Client) Call(ctx context.Context, procURI string, result any, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.checkOpen("call " + procURI); err != nil {
		return err
	}
	raw := make([][]byte, len(args))
	for i, a := range args {
		b, err := protocol.MarshalPayload(a)
		if err != nil {
			return fmt.Errorf("client: call %s: argument %d: %w", procURI, i, err)
		}
		raw[i] = b
	}
	id := c.opts.callID()
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.pending == nil {
		c.mu.Unlock()
		return c.errClosed("call " + procURI)
	}
	if _, dup := c.pending[id]; dup {
		c.mu.Unlock()
		return fmt.Errorf("client: call %s: %w: %q", procURI, ErrDuplicateCallID, id)
	}
	c.pending[id] = ch
	c.mu.Unlock()

	if err := c.write("call "+procURI, protocol.AppendCall(nil, id, procURI, raw...)); err != nil {
		c.forget(id)
		return err
	}
	var r reply
	select {
	case r = <-ch:
	case <-ctx.Done():
		c.forget(id)
		return ctx.Err()
	case <-c.done:
		select {
		case r = <-ch: // the reply came just before the end
		default:
			return c.errClosed("call " + procURI)
		}
	}
	if r.err != nil {
		return r.err
	}
	if result != nil {
		if err := protocol.Unmarshal(r.result, result); err != nil {
			return fmt.Errorf("client: call %s: decoding result: %w", procURI, err)
		}
	}
	return nil
}

// forget removes the pending call id, whose reply nobody waits for anymore.
func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id) // no-op on a nil map
	c.mu.Unlock()
}
