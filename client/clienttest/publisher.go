package clienttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// Publication is one recorded Publish call.
type Publication struct {
	// Topic is the topic URI as given to Publish, tags included.
	Topic string
	// Event is the event as the client would have sent it: marshaled with
	// protocol.MarshalPayload (goccy/go-json), or the json.RawMessage given,
	// copied.
	Event json.RawMessage
	// Options are the publish options as given, applied in order to a zero
	// protocol.PublishOptions. (A real client sends its own session ID as the
	// exclude list when Eligible is given without an Exclude list; the
	// record keeps the options before that translation.)
	Options protocol.PublishOptions
}

// Base returns the base of the topic, the text before its first '?'.
func (p Publication) Base() string {
	base, _, _ := strings.Cut(p.Topic, "?")
	return base
}

// Tags returns the tags of the topic, percent-decoded, without the base;
// nil when the topic has none or is not a well-formed tag topic
// (docs/protocol.md#tag-topics).
func (p Publication) Tags() map[string]string {
	s, err := tagindex.ParseTopic(p.Topic)
	if err != nil {
		return nil
	}
	var m map[string]string
	for _, t := range s.Tags() {
		if t.Key == tagindex.BaseKey {
			continue
		}
		if m == nil {
			m = make(map[string]string)
		}
		m[t.Key] = t.Value
	}
	return m
}

// Publisher is a client.Publisher that records publications instead of
// sending them. The zero value is ready to use; a Publisher must not be
// copied after first use.
type Publisher struct {
	mu   sync.Mutex
	pubs []Publication
	err  error
}

var _ client.Publisher = (*Publisher)(nil)

// Publish records a publication of event to topicURI with opts. Like the real
// client it fails, recording nothing, when event cannot be marshaled or is
// an invalid json.RawMessage; it also fails with the error set by FailWith.
func (p *Publisher) Publish(topicURI string, event any, opts ...client.PublishOption) error {
	ev, err := protocol.MarshalPayload(event)
	ev = bytes.Clone(ev) // the record outlives the caller's bytes
	if err != nil {
		return fmt.Errorf("clienttest: publish %s: %w", topicURI, err)
	}
	var o protocol.PublishOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.pubs = append(p.pubs, Publication{Topic: topicURI, Event: ev, Options: o})
	return nil
}

// FailWith makes every later Publish return err and record nothing, to test
// how the code under test handles a broken connection (a real client returns
// errors wrapping client.ErrClosed then). A nil err restores success.
func (p *Publisher) FailWith(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

// Publications returns every recorded publication, in the order Publish was
// called.
func (p *Publisher) Publications() []Publication {
	return p.find(func(Publication) bool { return true })
}

// FindByTags returns the publications, in order, whose topic holds every one
// of tags (and maybe others), as Gomoob's WebSocketClientMock::findByTags.
// Tags are compared percent-decoded, so a topic built with client.Topic is
// found by the tags it was built from. A publication whose topic is not a
// well-formed tag topic (docs/protocol.md#tag-topics) is never found; with no
// tags, every other one is.
func (p *Publisher) FindByTags(tags map[string]string) []Publication {
	want, err := tagindex.NewSet("", tags)
	if err != nil {
		return nil // a tag no topic can hold, such as a key that is not a name
	}
	return p.find(func(pub Publication) bool {
		s, err := tagindex.ParseTopic(pub.Topic)
		return err == nil && want.SubsetOf(s)
	})
}

// FindByTopic returns the publications, in order, whose topic has base
// (the text before '?') equal to base, whatever their tags; an empty base
// finds the tags-only publications.
func (p *Publisher) FindByTopic(base string) []Publication {
	return p.find(func(pub Publication) bool { return pub.Base() == base })
}

// Reset forgets every recorded publication and the error set by FailWith.
func (p *Publisher) Reset() {
	p.mu.Lock()
	p.pubs = nil
	p.err = nil
	p.mu.Unlock()
}

// find returns a new slice of the publications for which match is true.
func (p *Publisher) find(match func(Publication) bool) []Publication {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Publication
	for _, pub := range p.pubs {
		if match(pub) {
			out = append(out, pub)
		}
	}
	return out
}
