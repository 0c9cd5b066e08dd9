package router_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gobwas/ws/wsutil"
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
	c, err := tryDialWithin(30*time.Second, url, "wamp")
	if err != nil {
		return nil, err
	}
	m, err := c.next(30 * time.Second)
	if err != nil || !strings.HasPrefix(m, `[0,"`) {
		c.conn.Close()
		return nil, fmt.Errorf("want WELCOME, got %q, %v", m, err)
	}
	for _, tp := range topics {
		if err := c.sendText(fmt.Sprintf(`[5,%q]`, tp)); err != nil {
			c.conn.Close()
			return nil, err
		}
	}
	if len(topics) > 0 {
		if err := c.ack("subscribed"); err != nil {
			c.conn.Close()
			return nil, err
		}
	}
	return c, nil
}

// sendText sends one text message.
func (c *wsClient) sendText(msg string) error {
	if err := wsutil.WriteClientText(c.conn, []byte(msg)); err != nil {
		return fmt.Errorf("send %.40s: %w", msg, err)
	}
	return nil
}

// ack sends a CALL with callID id to a procedure nobody registered and
// reads until its answer (a CALLERROR, or a CALLRESULT where something
// answers it), skipping EVENTs. When it returns, the server has handled
// every message this client sent before.
func (c *wsClient) ack(id string) error {
	if err := c.sendText(fmt.Sprintf(`[2,%q,"http://tagwamp.test/ack"]`, id)); err != nil {
		return err
	}
	for {
		m, err := c.next(30 * time.Second)
		if errors.Is(err, errClosed) {
			return fmt.Errorf("closed (%d %q) while waiting for call %s", c.close, m, id)
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
