package handlers

import (
	"context"

	"github.com/tagwamp/tagwamp/router"
)

// Mux is an RPC router: it answers a CALL with the handler registered for
// the call's URI. It implements router.RPCHandler; set it as Options.RPC.
//
// A URI registered with Handle matches exactly. A prefix registered with
// HandlePrefix matches every URI that starts with it. An exact match beats
// any prefix, and among prefixes the longest wins; the empty prefix matches
// every URI, a fallback. A URI that matches nothing gets a
// *NoProcedureError, which wraps router.ErrNoSuchProcedure, so the router
// answers http://api.wamp.ws/error#NoSuchRPCEndpoint (docs/protocol.md#errors).
//
// Registering a URI or prefix twice, an empty URI with Handle, or a nil
// handler is a programming error and panics, as with http.ServeMux: the
// routes of a server are fixed by its code, not by its input.
//
// Calls to a handler registered through router.Inline (or any
// router.InlineHandler) are answered on the goroutine that read them
// (Mux.Inline); the others leave the worker pool while they run.
//
// The zero Mux is empty and ready to use. Registration and lookup are safe
// for concurrent use, even while serving: registration copies the route
// table and publishes the copy atomically, so a lookup takes no lock and
// allocates nothing.
type Mux struct {
	routes routes[router.RPCHandler]
}

// Handle registers h for calls to exactly uri. It panics if uri is empty,
// h is nil, or uri already has an exact handler.
func (m *Mux) Handle(uri string, h router.RPCHandler) {
	if uri == "" {
		panic("handlers: Mux.Handle: empty URI")
	}
	m.register("Handle", uri, h, false)
}

// HandleFunc registers f for calls to exactly uri, like Handle.
func (m *Mux) HandleFunc(uri string, f func(ctx context.Context, s *router.Session, c *router.Call) (any, error)) {
	if f == nil {
		panic("handlers: Mux.HandleFunc " + uri + ": nil func")
	}
	m.Handle(uri, router.RPCHandlerFunc(f))
}

// HandlePrefix registers h for every call whose URI starts with prefix and
// has neither an exact handler nor a longer matching prefix. A typical
// prefix ends with '#' or '/', like "http://example.com/calc#". It panics if
// h is nil or prefix is already registered as a prefix.
func (m *Mux) HandlePrefix(prefix string, h router.RPCHandler) {
	m.register("HandlePrefix", prefix, h, true)
}

func (m *Mux) register(method, key string, h router.RPCHandler, isPrefix bool) {
	if h == nil {
		panic("handlers: Mux." + method + " " + key + ": nil handler")
	}
	if !m.routes.add(key, h, isPrefix) {
		panic("handlers: Mux." + method + ": multiple registrations for " + key)
	}
}

// Handler returns the handler that would answer a call to uri and the
// pattern it was registered under (uri itself, or the matching prefix);
// nil and "" when none matches. It does not allocate.
func (m *Mux) Handler(uri string) (h router.RPCHandler, pattern string) {
	h, pattern, _ = m.routes.lookup(uri)
	return h, pattern
}

// ServeCall dispatches c to the handler registered for c.URI, or returns a
// *NoProcedureError when there is none.
func (m *Mux) ServeCall(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
	h, _, ok := m.routes.lookup(c.URI)
	if !ok {
		return nil, &NoProcedureError{URI: c.URI}
	}
	return h.ServeCall(ctx, s, c)
}

// Inline reports whether the handler registered for c.URI answers c at
// once (router.InlineHandler): true when it implements InlineHandler and
// says so, and for a URI with no handler (answered at once with
// NoSuchRPCEndpoint). Register a handler that never blocks with
// router.Inline to have its calls answered on the goroutine that read
// them.
func (m *Mux) Inline(c *router.Call) bool {
	h, _, ok := m.routes.lookup(c.URI)
	if !ok {
		return true
	}
	ih, ok := h.(router.InlineHandler)
	return ok && ih.Inline(c)
}

// Patterns returns the registered exact URIs and prefixes, each sorted:
// for listings and tests.
func (m *Mux) Patterns() (exact, prefixes []string) {
	return m.routes.keys()
}

// NoProcedureError is the error Mux returns for a URI nothing is registered
// for. It wraps router.ErrNoSuchProcedure, so the router answers it with
// http://api.wamp.ws/error#NoSuchRPCEndpoint.
type NoProcedureError struct {
	// URI is the procedure that was called.
	URI string
}

// Error returns "handlers: no procedure registered for <URI>".
func (e *NoProcedureError) Error() string {
	return "handlers: no procedure registered for " + e.URI
}

// Unwrap returns router.ErrNoSuchProcedure.
func (e *NoProcedureError) Unwrap() error { return router.ErrNoSuchProcedure }
