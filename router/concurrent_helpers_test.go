package router_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tagwamp/tagwamp/internal/wstest"
)

// The helpers of this file return errors rather than fail the test, so
// that the load tests can run thousands of clients on their own goroutines
// (t.Fatal must not be called from those).

// connect dials url offering "wamp", reads WELCOME and subscribes to
// topics; a CALL acknowledges the subscriptions, since a session's messages
// are handled in order.
func connect(url string, topics ...string) (*wsClient, error) {
	// Thousands dial at once, under -race, on a small shared machine:
	// the bounds are failure guards, generous on purpose.
	cl, err := wstest.Open(url, wstest.Options{Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	c := &wsClient{cl}
	if err := c.ReadWelcome(30 * time.Second); err != nil {
		c.Conn.Close()
		return nil, err
	}
	for _, tp := range topics {
		if err := c.SendText(fmt.Sprintf(`[5,%q]`, tp)); err != nil {
			c.Conn.Close()
			return nil, err
		}
	}
	if len(topics) > 0 {
		if err := c.ack("subscribed"); err != nil {
			c.Conn.Close()
			return nil, err
		}
	}
	return c, nil
}

// ack sends a CALL with callID id to a procedure nobody registered and
// reads until its answer (a CALLERROR, or a CALLRESULT where something
// answers it), skipping EVENTs. When it returns, the server has handled
// every message this client sent before.
func (c *wsClient) ack(id string) error {
	if err := c.SendText(fmt.Sprintf(`[2,%q,"http://tagwamp.test/ack"]`, id)); err != nil {
		return err
	}
	for {
		m, err := c.Next(30 * time.Second)
		if errors.Is(err, wstest.ErrClosed) {
			return fmt.Errorf("closed (%d %q) while waiting for call %s", c.CloseCode, m, id)
		}
		if err != nil {
			return fmt.Errorf("waiting for call %s: %w", id, err)
		}
		if strings.HasPrefix(m, fmt.Sprintf(`[3,%q`, id)) || strings.HasPrefix(m, fmt.Sprintf(`[4,%q`, id)) {
			return nil
		}
		if !strings.HasPrefix(m, "[8,") {
			return fmt.Errorf("unexpected message %.80s while waiting for call %s", m, id)
		}
	}
}
