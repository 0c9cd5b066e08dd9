package client

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tagwamp/tagwamp/protocol"
)

// MaxPrefixes is the most CURIE prefixes a session may define, as the server
// allows (docs/protocol.md#curies).
const MaxPrefixes = protocol.MaxPrefixes

// EventHandler receives the events of a subscription: topic is the topic
// string as the server sends it back (the subscribed topic, CURIE resolved)
// and event the event as raw JSON, a copy the handler may keep.
//
// Handlers run one at a time on the client's reader goroutine, in the order
// the events arrive. While one runs, no other message is read, so a handler
// must not block for long, and must not wait for a Call: hand long work to
// another goroutine.
type EventHandler func(topic string, event json.RawMessage)

// subscription is a value of Client.subs.
type subscription struct {
	topic   string // resolved topic, the map key, kept to pass it without allocating
	handler EventHandler
}

// Publisher is the part of a client that publishes. Code that only publishes
// should depend on it rather than on *Client, so that tests can hand it a
// clienttest.Publisher.
type Publisher interface {
	// Publish publishes event to topicURI; see Client.Publish.
	Publish(topicURI string, event any, opts ...PublishOption) error
}

var _ Publisher = (*Client)(nil)

// PublishOption sets who receives a publication
// (docs/protocol.md#publish-options). Options apply in order; for the
// exclusion, the last one given wins.
type PublishOption func(*protocol.PublishOptions)

// ExcludeMe says whether the publishing session is excluded from the
// receivers: true excludes it, false excludes nobody. Without it, the
// server's default applies (by default the publisher is excluded).
func ExcludeMe(exclude bool) PublishOption {
	return func(o *protocol.PublishOptions) {
		o.ExcludeIDs = nil
		if exclude {
			o.Exclude = protocol.ExcludeMe
		} else {
			o.Exclude = protocol.ExcludeNone
		}
	}
}

// Exclude excludes exactly the sessions ids from the receivers (the publisher
// only if listed).
func Exclude(ids ...string) PublishOption {
	return func(o *protocol.PublishOptions) {
		o.Exclude = protocol.ExcludeList
		o.ExcludeIDs = append([]string{}, ids...)
	}
}

// Eligible restricts the receivers to the sessions ids; no ids means nobody.
// On the wire the exclusion then has to be a list: the client sends its own
// session ID when the publisher is to be excluded (by default or by
// ExcludeMe(true)) and an empty list after ExcludeMe(false).
func Eligible(ids ...string) PublishOption {
	return func(o *protocol.PublishOptions) {
		o.HasEligible = true
		o.Eligible = append([]string{}, ids...)
	}
}

// Publish publishes event, marshaled with protocol.MarshalPayload (a
// json.RawMessage is sent as is), to topicURI, a URI or a CURIE, with tags
// in its query part or not (see Topic). WAMP v1 has no reply to a PUBLISH: a nil error means
// the message was written, not that anybody received it.
func (c *Client) Publish(topicURI string, event any, opts ...PublishOption) error {
	op := "publish " + topicURI
	if err := c.checkOpen(op); err != nil {
		return err
	}
	ev, err := protocol.MarshalPayload(event)
	if err != nil {
		return fmt.Errorf("client: %s: %w", op, err)
	}
	var o protocol.PublishOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.HasEligible {
		switch o.Exclude {
		case protocol.ExcludeDefault, protocol.ExcludeMe:
			o.Exclude, o.ExcludeIDs = protocol.ExcludeList, []string{c.sessionID}
		case protocol.ExcludeNone:
			o.Exclude, o.ExcludeIDs = protocol.ExcludeList, []string{}
		}
	}
	return c.write(op, protocol.AppendPublish(nil, topicURI, ev, o))
}

// Prefix defines a CURIE prefix for this session (docs/protocol.md#curies):
// once it returns, "prefix:rest" in a topic or procedure URI stands for
// uri+"rest", for the server and for Subscribe's local bookkeeping alike. A
// prefix may be redefined; a subscription keeps the URI it was made with.
func (c *Client) Prefix(prefix, uri string) error {
	op := "prefix " + prefix
	if err := c.checkOpen(op); err != nil {
		return err
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	if err := c.prefixes.Set([]byte(prefix), []byte(uri)); err != nil {
		if errors.Is(err, protocol.ErrTooManyPrefixes) {
			return fmt.Errorf("client: %s: %w", op, ErrTooManyPrefixes)
		}
		return fmt.Errorf("client: %s: %w", op, ErrBadPrefix)
	}
	return c.write(op, protocol.AppendPrefix(nil, prefix, uri))
}

// Subscribe subscribes h to topicURI, a URI or a CURIE, with tags in its
// query part or not. The server sends each event with the topic string of
// the subscription, CURIE resolved, so the handler is registered under the
// resolved string; two topic strings are two subscriptions even when they
// hold the same tags in another order (docs/protocol.md#dropped-messages).
// Subscribing again to the same resolved topic returns ErrSubscribed. See
// EventHandler for where and how h runs.
func (c *Client) Subscribe(topicURI string, h EventHandler) error {
	op := "subscribe " + topicURI
	if h == nil {
		return fmt.Errorf("client: %s: %w", op, ErrNilHandler)
	}
	if err := c.checkOpen(op); err != nil {
		return err
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	topic := c.curie(topicURI)
	c.mu.Lock()
	if _, ok := c.subs[topic]; ok {
		c.mu.Unlock()
		return fmt.Errorf("client: %s: %w", op, ErrSubscribed)
	}
	c.subs[topic] = subscription{topic: topic, handler: h}
	c.mu.Unlock()
	return c.write(op, protocol.AppendSubscribe(nil, topicURI))
}

// Unsubscribe ends the subscription to topicURI (resolved as by Subscribe).
// Events for it that arrive afterwards are dropped. It returns
// ErrNotSubscribed when there is no such subscription.
func (c *Client) Unsubscribe(topicURI string) error {
	op := "unsubscribe " + topicURI
	if err := c.checkOpen(op); err != nil {
		return err
	}
	c.smu.Lock()
	defer c.smu.Unlock()
	topic := c.curie(topicURI)
	c.mu.Lock()
	_, ok := c.subs[topic]
	delete(c.subs, topic)
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("client: %s: %w", op, ErrNotSubscribed)
	}
	return c.write(op, protocol.AppendUnsubscribe(nil, topicURI))
}

// curie returns the URI the server makes of uri: a CURIE "p:rest" whose p
// was defined with Prefix becomes the prefix URI followed by rest, anything
// else stays as is (docs/protocol.md#curies). It resolves with
// protocol.Prefixes, as the router does. The caller holds smu.
func (c *Client) curie(uri string) string {
	return string(c.prefixes.Resolve(nil, []byte(uri)))
}
