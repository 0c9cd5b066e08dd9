package handlers

import (
	"context"

	"github.com/tagwamp/tagwamp/router"
)

// TopicMux routes SUBSCRIBE and PUBLISH to the router.TopicHandler
// registered for the base of their tag set (the topic text before '?',
// docs/protocol.md#tag-matching), read from Subscription.Tags and
// Publication.Tags as the topic handlers before it left them. It
// implements router.TopicHandler; put it in Options.Topics.
//
// A base registered with Handle matches exactly; the empty base is the base
// of tag-only publications and connections (docs/protocol.md#tag-matching). A prefix
// registered with HandlePrefix matches every base that starts with it; an
// exact match beats any prefix, the longest prefix wins, and the empty prefix
// matches every base. A topic whose base matches nothing is allowed
// unchanged, so an empty TopicMux allows everything; register
// HandlePrefix("", h) to decide for them instead.
//
// Registering a base or prefix twice or a nil handler panics, as with Mux.
// The zero TopicMux is ready to use; registration and dispatch are safe for
// concurrent use, and dispatch takes no lock and allocates nothing.
type TopicMux struct {
	routes routes[router.TopicHandler]
}

// Handle registers h for topics whose base is exactly base. It panics if h
// is nil or base is already registered.
func (m *TopicMux) Handle(base string, h router.TopicHandler) {
	m.register("Handle", base, h, false)
}

// HandlePrefix registers h for topics whose base starts with prefix and
// matches no exact base and no longer prefix. It panics if h is nil or
// prefix is already registered as a prefix.
func (m *TopicMux) HandlePrefix(prefix string, h router.TopicHandler) {
	m.register("HandlePrefix", prefix, h, true)
}

func (m *TopicMux) register(method, key string, h router.TopicHandler, isPrefix bool) {
	if h == nil {
		panic("handlers: TopicMux." + method + " " + key + ": nil handler")
	}
	if !m.routes.add(key, h, isPrefix) {
		panic("handlers: TopicMux." + method + ": multiple registrations for " + key)
	}
}

// Handler returns the handler for topics with the given base and the
// pattern it was registered under; nil and "" when none matches.
func (m *TopicMux) Handler(base string) (h router.TopicHandler, pattern string) {
	h, pattern, _ = m.routes.lookup(base)
	return h, pattern
}

// Subscribe passes sub to the handler for its base, or allows it when there
// is none.
func (m *TopicMux) Subscribe(ctx context.Context, s *router.Session, sub *router.Subscription) error {
	base, _ := sub.Tags.Base()
	h, _, ok := m.routes.lookup(base)
	if !ok {
		return nil
	}
	return h.Subscribe(ctx, s, sub)
}

// Publish passes pub to the handler for its base, or allows it when there
// is none.
func (m *TopicMux) Publish(ctx context.Context, s *router.Session, pub *router.Publication) error {
	base, _ := pub.Tags.Base()
	h, _, ok := m.routes.lookup(base)
	if !ok {
		return nil
	}
	return h.Publish(ctx, s, pub)
}

// Patterns returns the registered exact bases and prefixes, each sorted.
func (m *TopicMux) Patterns() (exact, prefixes []string) {
	return m.routes.keys()
}
