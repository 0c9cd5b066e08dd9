package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tagwamp/tagwamp/protocol"
)

// Subprotocol is the WebSocket subprotocol Dial offers and requires the
// server to select (docs/protocol.md#subprotocol).
const Subprotocol = "wamp"

// Client is one WAMP v1 session with a server. Create it with Dial; all its
// methods are safe for concurrent use. See the package documentation for the
// goroutine that runs event handlers and for the lock order.
type Client struct {
	conn        net.Conn
	opts        options
	log         *slog.Logger
	sessionID   string
	serverIdent string

	// Reader state, owned by the reader goroutine (by Dial before it starts).
	rd  *wsutil.Reader
	buf []byte
	dec protocol.Decoder
	msg protocol.Message

	// smu serializes Prefix, Subscribe and Unsubscribe from the update of the
	// local CURIE map to the write of the message, so that the server sees
	// PREFIX and SUBSCRIBE in the order the local map assumed.
	smu      sync.Mutex
	prefixes protocol.Prefixes // guarded by smu

	// mu guards the maps the reader goroutine looks into and the cause.
	mu      sync.RWMutex
	pending map[string]chan reply   // call id -> waiting Call; nil once ended
	subs    map[string]subscription // resolved topic -> handler
	cause   error                   // first reason the connection ended

	// wmu serializes writes to conn.
	wmu       sync.Mutex
	bw        *bufio.Writer // guarded by wmu
	closeSent bool          // guarded by wmu: no frame may follow a close frame

	closing   atomic.Bool   // Close was called
	inHandler atomic.Bool   // the reader goroutine is running an event handler
	done      chan struct{} // closed by the reader goroutine when it ends
}

// reply is what the reader hands to a waiting Call.
type reply struct {
	result []byte          // CALLRESULT result, raw JSON, owned by the receiver
	err    *protocol.Error // CALLERROR, or nil
}

// Dial connects to a WAMP v1 server at url (ws:// or wss://), offering the
// "wamp" subprotocol, and waits for the WELCOME. It fails with ErrSubprotocol
// when the server does not select "wamp", ErrWelcome when the first message
// is not a WELCOME and ErrVersion when the WELCOME is not for version 1.
//
// ctx bounds the dial and the handshake, together with WithDialTimeout; when
// it ends first Dial returns ctx.Err(). Once Dial has returned, ctx no longer
// matters: the client lives until Close or the end of the connection.
func Dial(ctx context.Context, url string, opts ...Option) (*Client, error) {
	o := withDefaults(opts)
	if o.dialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.dialTimeout)
		defer cancel()
	}
	d := ws.Dialer{
		Protocols: []string{Subprotocol},
		TLSConfig: o.tlsConfig,
	}
	if o.header != nil {
		d.Header = ws.HandshakeHeaderHTTP(o.header)
	}
	conn, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("client: dial %s: %w", url, ctxErr)
		}
		return nil, fmt.Errorf("client: dial %s: %w", url, err)
	}
	if hs.Protocol != Subprotocol {
		conn.Close()
		if br != nil {
			ws.PutReader(br)
		}
		return nil, fmt.Errorf("client: dial %s: %w", url, ErrSubprotocol)
	}
	if br == nil {
		br = bufio.NewReader(conn)
	}
	c := &Client{
		conn:    conn,
		opts:    o,
		log:     o.logger,
		rd:      &wsutil.Reader{Source: br, State: ws.StateClientSide, MaxMessageSize: max(o.maxMessageSize, 0)},
		pending: make(map[string]chan reply),
		subs:    make(map[string]subscription),
		bw:      bufio.NewWriter(conn),
		done:    make(chan struct{}),
	}
	c.rd.OnIntermediate = c.control
	if err := c.welcome(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("client: dial %s: %w", url, err)
	}
	c.log = c.log.With("session", c.sessionID)
	go c.readLoop()
	return c, nil
}

// welcome reads the first message, which must be a WELCOME for version 1,
// within the life of ctx.
func (c *Client) welcome(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		c.conn.SetReadDeadline(time.Unix(1, 0)) // in the past: wakes the read
	})
	frame, err := c.next()
	if !stop() {
		return ctx.Err()
	}
	c.conn.SetReadDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("reading WELCOME: %w", err)
	}
	m := &c.msg
	if err := c.dec.Decode(frame, m); err != nil {
		return fmt.Errorf("%w: %w", ErrWelcome, err)
	}
	if m.Type != protocol.TypeWelcome {
		return fmt.Errorf("%w: got %v", ErrWelcome, m.Type)
	}
	if m.Welcome.Version != 1 {
		return fmt.Errorf("%w: %d", ErrVersion, m.Welcome.Version)
	}
	c.sessionID = string(m.Welcome.SessionID)
	c.serverIdent = string(m.Welcome.ServerIdent)
	return nil
}

// SessionID returns the session ID the server gave in its WELCOME. Servers
// use it in PUBLISH exclude and eligible lists.
func (c *Client) SessionID() string { return c.sessionID }

// ServerIdent returns the server identification from the WELCOME, such as
// "tagwamp/0.1.0".
func (c *Client) ServerIdent() string { return c.serverIdent }

// Done returns a channel that is closed when the connection has ended, by
// Close, by the server or by an error. After it is closed, Err says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is up, and once Done is closed the
// reason it ended: ErrClosed after Close, a *CloseError when the server sent
// a close frame, an error wrapping ErrProtocol when the server broke the
// protocol, or the I/O error that ended it.
func (c *Client) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cause
}

// Close ends the session: it sends a close frame with status 1000, waits up
// to the close timeout (WithCloseTimeout) for the server's close frame, then
// closes the socket. Pending calls fail with ErrClosed. Close returns once
// the reader goroutine has ended, so no event handler runs after it returns
// (unless Close is called from a handler, where it does not wait). Calling it
// on a client that has already ended returns an error wrapping ErrClosed.
func (c *Client) Close() error {
	if !c.closing.CompareAndSwap(false, true) || c.ended() {
		return c.errClosed("close")
	}
	c.setCause(ErrClosed)
	c.wmu.Lock()
	err := c.writeFrameLocked(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""), c.opts.closeTimeout)
	c.wmu.Unlock()
	if c.inHandler.Load() {
		// Maybe called from an event handler: the reader can neither read
		// the server's answer nor end before the handler returns.
		c.conn.Close()
		return nil
	}
	if err != nil || c.opts.closeTimeout <= 0 {
		c.conn.Close()
	}
	t := time.NewTimer(c.opts.closeTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.conn.Close()
		<-c.done
	}
	return nil
}

// ended reports whether the connection has ended.
func (c *Client) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// checkOpen returns an error wrapping ErrClosed, with op as context, when the
// client is closing or has ended.
func (c *Client) checkOpen(op string) error {
	if c.closing.Load() || c.ended() {
		return c.errClosed(op)
	}
	return nil
}

// errClosed returns ErrClosed with op as context, wrapping the cause of the
// end of the connection as well when there is one besides Close.
func (c *Client) errClosed(op string) error {
	c.mu.RLock()
	cause := c.cause
	c.mu.RUnlock()
	if cause == nil || errors.Is(cause, ErrClosed) {
		return fmt.Errorf("client: %s: %w", op, ErrClosed)
	}
	return fmt.Errorf("client: %s: %w: %w", op, ErrClosed, cause)
}

// setCause records err as the reason the connection ended, unless one was
// recorded already.
func (c *Client) setCause(err error) {
	c.mu.Lock()
	if c.cause == nil {
		c.cause = err
	}
	c.mu.Unlock()
}

// fail ends the connection because of err: the reader goroutine notices the
// closed socket and finishes the shutdown.
func (c *Client) fail(err error) {
	c.setCause(err)
	c.conn.Close()
}

// write sends p as one text message. A failed write fails the connection: the
// socket may hold a partial frame.
func (c *Client) write(op string, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return c.errClosed(op)
	}
	if err := c.writeFrameLocked(ws.OpText, p, c.opts.writeTimeout); err != nil {
		c.fail(err)
		return c.errClosed(op)
	}
	return nil
}

// writeFrameLocked writes one masked frame with a write deadline of timeout
// from now (none if timeout <= 0). A close frame sets closeSent. The caller
// holds wmu.
func (c *Client) writeFrameLocked(op ws.OpCode, p []byte, timeout time.Duration) error {
	if c.closeSent {
		return nil
	}
	if op == ws.OpClose {
		c.closeSent = true
	}
	if timeout > 0 {
		c.conn.SetWriteDeadline(time.Now().Add(timeout))
	}
	err := wsutil.WriteClientMessage(c.bw, op, p)
	if err == nil {
		err = c.bw.Flush()
	}
	return err
}
