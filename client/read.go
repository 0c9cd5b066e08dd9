package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tagwamp/tagwamp/protocol"
)

// errBinary is the cause (wrapped in ErrProtocol) for a binary frame.
var errBinary = errors.New("binary frame")

// maxKeptBuffer is the largest read buffer kept between messages; a larger
// one, grown for a big message, is dropped after it.
const maxKeptBuffer = 64 << 10

// maxPrealloc is the most the reader allocates ahead of a message on the word
// of its frame header; larger messages grow the buffer as bytes arrive.
const maxPrealloc = 1 << 20

// readLoop is the reader goroutine: it reads and dispatches messages until
// the connection fails, then shuts the client down.
func (c *Client) readLoop() {
	var err error
	for {
		var frame []byte
		if frame, err = c.next(); err != nil {
			break
		}
		if err = c.dispatch(frame); err != nil {
			break
		}
		if cap(c.buf) > maxKeptBuffer {
			c.buf = nil
		}
	}
	c.shutdown(err)
}

// shutdown records err as the cause (unless Close or a failed write recorded
// one first), sends the close frame that err calls for, closes the socket,
// fails the pending calls and closes done. Only readLoop calls it.
func (c *Client) shutdown(err error) {
	var ce *CloseError
	if code := closeCode(err); code != 0 && !errors.As(err, &ce) {
		c.wmu.Lock()
		c.writeFrameLocked(ws.OpClose, ws.NewCloseFrameBody(code, protocol.Reason(err)), c.opts.closeTimeout)
		c.wmu.Unlock()
	}
	c.conn.Close()
	c.mu.Lock()
	if c.cause == nil {
		c.cause = err
	}
	cause := c.cause
	c.pending = nil // waiting calls see done closed
	c.mu.Unlock()
	if errors.Is(cause, ErrClosed) {
		c.log.Debug("client: connection closed")
	} else {
		c.log.Info("client: connection ended", "err", cause)
	}
	close(c.done)
}

// closeCode returns the close status for a connection that ends with err, or
// 0 when no close frame is to be sent (the socket is gone, or the server
// closed first).
func closeCode(err error) ws.StatusCode {
	var pe ws.ProtocolError
	switch {
	case errors.Is(err, wsutil.ErrMessageTooLarge), errors.Is(err, wsutil.ErrFrameTooLarge):
		return ws.StatusMessageTooBig
	case errors.Is(err, errBinary):
		return ws.StatusUnsupportedData
	case errors.As(err, &pe):
		return ws.StatusProtocolError
	case errors.Is(err, ErrProtocol):
		return ws.StatusInvalidFramePayloadData
	}
	return 0
}

// next reads the next text message, answering the control frames before it.
// The bytes are c.buf, valid until the next call.
func (c *Client) next() ([]byte, error) {
	for {
		hdr, err := c.rd.NextFrame()
		if err != nil {
			return nil, wrapFrameErr(err)
		}
		if hdr.OpCode.IsControl() {
			if err := c.control(hdr, c.rd); err != nil {
				return nil, err
			}
			continue
		}
		if hdr.OpCode != ws.OpText {
			return nil, fmt.Errorf("%w: %w", ErrProtocol, errBinary)
		}
		if n := min(hdr.Length, maxPrealloc); hdr.Fin && int64(cap(c.buf)) < n {
			c.buf = make([]byte, 0, n) // the peer's length is trusted this far only
		}
		c.buf = c.buf[:0]
		for {
			if len(c.buf) == cap(c.buf) {
				c.buf = append(c.buf, 0)[:len(c.buf)]
			}
			n, err := c.rd.Read(c.buf[len(c.buf):cap(c.buf)])
			c.buf = c.buf[:len(c.buf)+n]
			if err == io.EOF {
				return c.buf, nil
			}
			if err != nil {
				return nil, wrapFrameErr(err)
			}
		}
	}
}

// wrapFrameErr marks the errors by which the server broke RFC 6455 or the
// size limit with ErrProtocol.
func wrapFrameErr(err error) error {
	var pe ws.ProtocolError
	if errors.As(err, &pe) || errors.Is(err, wsutil.ErrMessageTooLarge) || errors.Is(err, wsutil.ErrFrameTooLarge) {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return err
}

// control handles a control frame whose payload is r: a ping is answered
// with a pong carrying its payload, a pong is dropped, a close is answered
// with a close echoing its status (unless Close sent one already) and ends the
// connection with a *CloseError.
func (c *Client) control(hdr ws.Header, r io.Reader) error {
	var p [125]byte // control frames carry at most 125 bytes (RFC 6455 5.5)
	payload := p[:hdr.Length]
	if _, err := io.ReadFull(r, payload); err != nil {
		return err
	}
	switch hdr.OpCode {
	case ws.OpPing:
		c.wmu.Lock()
		err := c.writeFrameLocked(ws.OpPong, payload, c.opts.writeTimeout)
		c.wmu.Unlock()
		return err
	case ws.OpClose:
		code, reason := ws.ParseCloseFrameData(payload)
		if len(payload) == 0 {
			code = ws.StatusNoStatusRcvd
		} else if err := ws.CheckCloseFrameData(code, reason); err != nil {
			return fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		c.wmu.Lock()
		c.writeFrameLocked(ws.OpClose, payload[:min(len(payload), 2)], c.opts.writeTimeout)
		c.wmu.Unlock()
		return &CloseError{Code: int(code), Reason: reason}
	}
	return nil
}

// dispatch decodes frame and hands it to the waiting call or the
// subscription handler. It returns an error only for a frame that is not a
// WAMP v1 message.
func (c *Client) dispatch(frame []byte) error {
	m := &c.msg
	if err := c.dec.Decode(frame, m); err != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	switch m.Type {
	case protocol.TypeCallResult:
		c.resolve(m.CallResult.CallID, reply{result: bytes.Clone(m.CallResult.Result)})
	case protocol.TypeCallError:
		e := &protocol.Error{URI: string(m.CallError.ErrorURI), Desc: string(m.CallError.ErrorDesc)}
		if len(m.CallError.ErrorDetails) > 0 {
			if err := protocol.Unmarshal(m.CallError.ErrorDetails, &e.Details); err != nil {
				return fmt.Errorf("%w: CALLERROR details: %w", ErrProtocol, err)
			}
		}
		c.resolve(m.CallError.CallID, reply{err: e})
	case protocol.TypeEvent:
		c.deliver(m.Event.TopicURI, m.Event.Event)
	default:
		c.log.Debug("client: unexpected message from server dropped", "type", m.Type)
	}
	return nil
}

// resolve hands r to the call waiting for the call ID whose raw JSON token is
// rawID; a reply nobody waits for (the call was cancelled) is dropped.
func (c *Client) resolve(rawID []byte, r reply) {
	id, ok := unquote(rawID)
	c.mu.Lock()
	ch, found := c.pending[id]
	if found {
		delete(c.pending, id)
	}
	c.mu.Unlock()
	if !ok || !found {
		c.log.Debug("client: reply for no pending call dropped", "callID", string(rawID))
		return
	}
	ch <- r // buffered, never blocks
}

// unquote returns the string a JSON string token stands for.
func unquote(tok []byte) (string, bool) {
	if len(tok) >= 2 && tok[0] == '"' && tok[len(tok)-1] == '"' && bytes.IndexByte(tok, '\\') < 0 {
		return string(tok[1 : len(tok)-1]), true
	}
	var s string
	if err := protocol.Unmarshal(tok, &s); err != nil {
		return "", false
	}
	return s, true
}

// deliver runs the handler subscribed to topic, if any, with a copy of event.
func (c *Client) deliver(topic, event []byte) {
	c.mu.RLock()
	sub, ok := c.subs[string(topic)]
	c.mu.RUnlock()
	if !ok {
		c.log.Debug("client: event for no subscription dropped", "topic", string(topic))
		return
	}
	c.inHandler.Store(true)
	defer c.inHandler.Store(false)
	sub.handler(sub.topic, json.RawMessage(bytes.Clone(event)))
}
