package wstest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// ErrClosed is what Next returns when the message it reads is a close
// frame; the frame's code is then in Client.CloseCode and its reason is
// Next's string.
var ErrClosed = errors.New("wstest: close frame")

// Options say how to dial. The zero value offers "wamp" and bounds the
// connect and handshake by 5s.
type Options struct {
	// Protocols are the subprotocols offered; nil offers "wamp", an empty
	// non-nil slice none.
	Protocols []string
	// Timeout bounds the TCP connect and the handshake together (a failure
	// guard, never a timing); 0 is 5s.
	Timeout time.Duration
	// RcvBuf, when not 0, is the socket's receive buffer, set before the
	// connection is made so that the window the client announces matches
	// it (shrinking the buffer of an open connection makes the kernel drop
	// what it had let the peer send). Unix only.
	RcvBuf int
	// ReadTimeout is the deadline of Recv, RecvJSON and ExpectClose; 0 is 5s.
	ReadTimeout time.Duration
	// Header is added to the upgrade request.
	Header http.Header
	// TLSConfig is used for wss:// URLs.
	TLSConfig *tls.Config
	// NetDial, when not nil, makes the TCP connection.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client is one raw WebSocket client connection.
type Client struct {
	// T is the test that the failing methods fail; Dial sets it, Open
	// leaves it nil for the caller to set.
	T testing.TB
	// Conn is the connection, for tests that write bytes of their own or
	// hang up.
	Conn net.Conn
	// Handshake is what the server answered to the upgrade request.
	Handshake ws.Handshake
	// SessionID is the WELCOME's session ID, once read.
	SessionID string
	// CloseCode is the code of the last close frame Next read.
	CloseCode ws.StatusCode
	// ReadTimeout is the deadline of Recv, RecvJSON and ExpectClose.
	ReadTimeout time.Duration

	r *wsutil.Reader
}

// Source returns the raw bytes the server sent after the upgrade (what
// the handshake read ahead, then the connection), for readers that parse
// frames themselves, as the loopback benchmarks do. Do not mix it with
// Next or Recv.
func (c *Client) Source() io.Reader { return c.r.Source }

// Open connects to url and completes the upgrade; it reads nothing after
// it. It touches no testing.TB: the caller closes c.Conn.
func Open(url string, o Options) (*Client, error) {
	protos := o.Protocols
	if protos == nil {
		protos = []string{"wamp"}
	}
	d := ws.Dialer{Protocols: protos, Timeout: o.Timeout, TLSConfig: o.TLSConfig, NetDial: o.NetDial}
	if d.Timeout == 0 {
		d.Timeout = 5 * time.Second
	}
	if o.Header != nil {
		d.Header = ws.HandshakeHeaderHTTP(o.Header)
	}
	if o.RcvBuf != 0 {
		if o.NetDial != nil {
			return nil, errors.New("wstest: RcvBuf and NetDial together")
		}
		nd := net.Dialer{Control: rcvBufControl(o.RcvBuf)}
		d.NetDial = nd.DialContext
	}
	conn, br, hs, err := d.Dial(context.Background(), url)
	if err != nil {
		return nil, err
	}
	var src io.Reader = conn
	if br != nil {
		src = io.MultiReader(br, conn)
	}
	c := &Client{Conn: conn, Handshake: hs, ReadTimeout: o.ReadTimeout}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 5 * time.Second
	}
	c.r = &wsutil.Reader{Source: src, State: ws.StateClientSide, CheckUTF8: true}
	return c, nil
}

// Dial opens a session at url, closes it with the test and reads WELCOME
// ([0, sessionId, 1, serverIdent], docs/protocol.md#welcome); it fails the
// test if it cannot.
func Dial(t testing.TB, url string, o Options) *Client {
	t.Helper()
	c, err := Open(url, o)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.T = t
	t.Cleanup(func() { c.Conn.Close() })
	if err := c.ReadWelcome(c.ReadTimeout); err != nil {
		t.Fatal(err)
	}
	return c
}

// ReadWelcome reads the next message, checks that it is a WELCOME of
// protocol version 1 and keeps its session ID.
func (c *Client) ReadWelcome(timeout time.Duration) error {
	m, err := c.Next(timeout)
	if err != nil {
		return fmt.Errorf("wstest: want WELCOME, got %q, %w (close %d)", m, err, c.CloseCode)
	}
	var w []any
	if err := json.Unmarshal([]byte(m), &w); err != nil || len(w) != 4 || w[0] != float64(0) || w[2] != float64(1) {
		return fmt.Errorf("wstest: first message is not a WELCOME: %s", m)
	}
	sid, ok := w[1].(string)
	if !ok {
		return fmt.Errorf("wstest: WELCOME without a session ID: %s", m)
	}
	c.SessionID = sid
	return nil
}

// SendText sends one text message.
func (c *Client) SendText(msg string) error {
	if err := wsutil.WriteClientText(c.Conn, []byte(msg)); err != nil {
		return fmt.Errorf("wstest: send %.40s: %w", msg, err)
	}
	return nil
}

// Send sends one text message or fails the test.
func (c *Client) Send(msg string) {
	c.T.Helper()
	if err := c.SendText(msg); err != nil {
		c.T.Fatal(err)
	}
}

// WriteFrame sends f, masked as a client must (it masks f's payload in
// place).
func (c *Client) WriteFrame(f ws.Frame) error {
	if err := ws.WriteFrame(c.Conn, ws.MaskFrameInPlace(f)); err != nil {
		return fmt.Errorf("wstest: send frame: %w", err)
	}
	return nil
}

// SendFrame sends f, masked, or fails the test.
func (c *Client) SendFrame(f ws.Frame) {
	c.T.Helper()
	if err := c.WriteFrame(f); err != nil {
		c.T.Fatal(err)
	}
}

// Next returns the next data message, read within timeout. It answers
// pings and skips pongs; a close frame ends it with ErrClosed, the frame's
// reason as the string and its code in c.CloseCode.
func (c *Client) Next(timeout time.Duration) (string, error) {
	c.Conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		h, err := c.r.NextFrame()
		if err != nil {
			return "", err
		}
		if h.OpCode.IsControl() {
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(c.r, p); err != nil {
				return "", err
			}
			if h.OpCode == ws.OpClose {
				c.CloseCode, _ = ws.ParseCloseFrameData(p)
				return string(p[min(2, len(p)):]), ErrClosed
			}
			if h.OpCode == ws.OpPing {
				ws.WriteFrame(c.Conn, ws.MaskFrameInPlace(ws.NewPongFrame(p)))
			}
			continue
		}
		b, err := io.ReadAll(c.r)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
}

// NextFrame returns the next frame read within timeout, whatever its
// opcode, and answers nothing: it is for tests of control frames.
func (c *Client) NextFrame(timeout time.Duration) (ws.Header, []byte, error) {
	c.Conn.SetReadDeadline(time.Now().Add(timeout))
	h, err := c.r.NextFrame()
	if err != nil {
		return h, nil, err
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.r, p); err != nil {
		return h, nil, err
	}
	return h, p, nil
}

// Recv returns the next message or fails the test.
func (c *Client) Recv() string {
	c.T.Helper()
	m, err := c.Next(c.ReadTimeout)
	if err != nil {
		c.T.Fatalf("recv: %v (close %d %q)", err, c.CloseCode, m)
	}
	return m
}

// RecvJSON decodes the next message into v or fails the test.
func (c *Client) RecvJSON(v any) {
	c.T.Helper()
	m := c.Recv()
	if err := json.Unmarshal([]byte(m), v); err != nil {
		c.T.Fatalf("message %q: %v", m, err)
	}
}

// ExpectNothing fails the test if a message or a close frame arrives
// within d.
func (c *Client) ExpectNothing(d time.Duration) {
	c.T.Helper()
	if m, err := c.Next(d); err == nil {
		c.T.Fatalf("unexpected message %s", m)
	} else if errors.Is(err, ErrClosed) {
		c.T.Fatalf("unexpected close %d %q", c.CloseCode, m)
	}
}

// ExpectClose reads past data messages to a close frame and fails the test
// unless its code is code and its reason contains want.
func (c *Client) ExpectClose(code ws.StatusCode, want string) {
	c.T.Helper()
	for {
		m, err := c.Next(c.ReadTimeout)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrClosed) {
			c.T.Fatalf("want close %d, got %v", code, err)
		}
		if c.CloseCode != code || !strings.Contains(m, want) {
			c.T.Fatalf("close %d %q, want %d containing %q", c.CloseCode, m, code, want)
		}
		return
	}
}

// CheckClose reads the next message within c.ReadTimeout and says how it
// differs from a close frame with code and exactly reason; nil if it is
// one.
func (c *Client) CheckClose(code ws.StatusCode, reason string) error {
	m, err := c.Next(c.ReadTimeout)
	if !errors.Is(err, ErrClosed) || c.CloseCode != code || m != reason {
		return fmt.Errorf("got %.60q, %v (close %d); want close %d %q", m, err, c.CloseCode, code, reason)
	}
	return nil
}

// MaskedFrame is one final frame of op carrying payload, masked and
// encoded as a client sends it.
func MaskedFrame(op ws.OpCode, payload string) []byte {
	b, err := ws.CompileFrame(ws.MaskFrameInPlace(ws.NewFrame(op, true, []byte(payload))))
	if err != nil {
		panic(err) // only for an invalid header, which NewFrame does not make
	}
	return b
}
