package forward

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// Forwarder forwards CALLs to HTTP services and asks HTTP hooks about
// connections and subscriptions (see the package doc). Install it with
// Extension; it is safe for concurrent use.
type Forwarder struct {
	routes   []*backend // longest prefix first
	prefixes []string   // routes[i]'s prefix
	sub      *hook
	conn     *hook
	maxBody  int64
	log      *slog.Logger
	observer Observer // nil: none

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add against Close
	closed bool
	wg     sync.WaitGroup // forwarded calls running
}

// hook is a Hook's backend and its OnError.
type hook struct {
	*backend
	onError OnError
}

// New checks opts and returns a Forwarder for them; its errors wrap
// ErrOptions and name the field.
func New(opts Options) (*Forwarder, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	f := &Forwarder{maxBody: cmp.Or(opts.MaxResponseBytes, DefaultMaxResponseBytes), log: opts.Logger,
		observer: opts.Observer}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	routes := slices.Clone(opts.Routes)
	slices.SortStableFunc(routes, func(a, b Route) int { return cmp.Compare(len(b.Prefix), len(a.Prefix)) })
	for _, r := range routes {
		f.routes = append(f.routes, newBackend(cmp.Or(r.Name, r.Prefix), r.URL, r.Header,
			cmp.Or(r.Timeout, DefaultTimeout), cmp.Or(r.MaxInFlight, DefaultMaxInFlight)))
		f.prefixes = append(f.prefixes, r.Prefix)
	}
	newHook := func(name string, h *Hook) *hook {
		if h == nil {
			return nil
		}
		return &hook{newBackend(name, h.URL, h.Header, cmp.Or(h.Timeout, DefaultHookTimeout),
			cmp.Or(h.MaxInFlight, DefaultMaxInFlight)), h.OnError}
	}
	f.sub = newHook("subscribe hook", opts.SubscribeHook)
	f.conn = newHook("connect hook", opts.ConnectHook)
	f.ctx, f.cancel = context.WithCancel(context.Background())
	return f, nil
}

// Extension returns the parts of the router f needs: RPC middleware when
// it has routes, a topic handler when it has a hook, a handshake filter
// when it has a connect hook, and Shutdown as its Drain, so that the
// router's Shutdown lets the forwarded calls running finish and closes
// the connections to the services. Install it after package auth's
// extension (router.Options.Extensions keeps their order), so that what
// auth refuses never costs an HTTP request.
func (f *Forwarder) Extension() router.Extension {
	ext := router.Extension{Drain: f.Shutdown}
	if len(f.routes) > 0 {
		ext.RPC = f.middleware
	}
	if f.sub != nil || f.conn != nil {
		ext.Topics = router.TopicFuncs{OnSubscribe: f.subscribe, OnPublish: f.publish}
	}
	if f.conn != nil {
		ext.Filter = router.HandshakeFilterFunc(f.handshake)
	}
	return ext
}

// Shutdown stops forwarding and lets the calls already forwarded finish:
// a call that comes after it answers at once http://tagwamp.dev/error#busy
// ("server shutting down"), with no request sent. It waits until every
// forwarded call running has its answer (sent to its caller with
// router.Reply) or ctx is done; then it cancels the requests still
// running (their calls answer http://api.wamp.ws/error#internal) and
// waits for them to end. Last, it closes the idle keep-alive connections
// to every service. Hook questions asked after the cancel fail as a
// service that cannot be reached would (their OnError decides). It
// returns ctx's error when calls were cut short, else nil; it may be
// called more than once. The router calls it at its own Shutdown (the
// Drain of Extension), while the sessions are still open.
func (f *Forwarder) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	done := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		f.cancel()
		<-done
	}
	f.cancel()
	f.closeIdle()
	return err
}

// Close is Shutdown without the wait: the requests running are canceled
// at once (their calls answer http://api.wamp.ws/error#internal).
func (f *Forwarder) Close() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Shutdown(ctx)
}

// closeIdle closes the idle keep-alive connections to every service.
func (f *Forwarder) closeIdle() {
	for _, b := range f.routes {
		b.transport.CloseIdleConnections()
	}
	for _, h := range []*hook{f.sub, f.conn} {
		if h != nil {
			h.transport.CloseIdleConnections()
		}
	}
}

// route returns the backend of the longest prefix of uri, or nil.
func (f *Forwarder) route(uri string) *backend {
	for i, p := range f.prefixes {
		if strings.HasPrefix(uri, p) {
			return f.routes[i]
		}
	}
	return nil
}

// sessionInfo is who a session is, as every request tells the service.
type sessionInfo struct {
	ID string `json:"id"`
	// AuthKey is the application key the session authenticated with (a
	// token's issuer), "" when anonymous or without package auth.
	AuthKey string `json:"auth_key"`
	// Tags are the tags bound to the session: a token's (package auth),
	// then the connect hook's for the keys the token does not bind.
	Tags map[string]string `json:"tags"`
	// ClientIP is router.Request.ClientIP, "" when not an IP address.
	ClientIP string `json:"client_ip"`
}

func sessionOf(s *router.Session) sessionInfo {
	id := auth.IdentityOf(s)
	info := sessionInfo{ID: s.ID(), AuthKey: id.Key, Tags: make(map[string]string)}
	for _, t := range boundTags(s) {
		info.Tags[t.Key] = t.Value
	}
	for _, t := range id.Bound.Tags() {
		if t.Key != tagindex.BaseKey {
			info.Tags[t.Key] = t.Value
		}
	}
	if ip := s.Request().ClientIP; ip.IsValid() {
		info.ClientIP = ip.String()
	}
	return info
}
