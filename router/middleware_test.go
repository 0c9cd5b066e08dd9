package router_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

func TestConnFilter(t *testing.T) {
	var seen atomic.Int32
	_, url := startServer(t, router.Options{Filters: []router.HandshakeFilter{
		router.ConnFilterFunc(func(c net.Conn) error {
			seen.Add(1)
			if seen.Load() == 2 {
				return errors.New("second connection refused")
			}
			return nil
		}),
	}})
	dial(t, url)
	if _, err := tryDial(url, "wamp"); err == nil {
		t.Fatal("refused connection upgraded")
	}
	dial(t, url)
	if seen.Load() != 3 {
		t.Fatalf("filter saw %d connections", seen.Load())
	}
}

// addrFilter is a filter with both parts, as handlers.IPFilter: it
// records what each saw and refuses the client IP deny.
type addrFilter struct {
	deny  string
	conns atomic.Int32
	ips   chan string
}

func (f *addrFilter) AcceptConn(c net.Conn) error {
	f.conns.Add(1)
	return nil
}

func (f *addrFilter) Handshake(r *router.Request) error {
	f.ips <- r.ClientIP.String()
	if r.ClientIP.String() == f.deny {
		return &router.HTTPError{Status: http.StatusForbidden, Reason: "address not allowed"}
	}
	return nil
}

// TestConnFilterTrustedProxies checks that a ConnFilter is not asked
// about a connection from a trusted proxy, whose client only the
// handshake names, and is asked about any other.
func TestConnFilterTrustedProxies(t *testing.T) {
	tests := []struct {
		name      string
		proxies   []netip.Prefix
		wantConns int32
	}{
		{"no proxies", nil, 2},
		{"peer is a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, 0},
		{"peer is not a trusted proxy", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &addrFilter{deny: "203.0.113.5", ips: make(chan string, 2)}
			_, url := startServer(t, router.Options{TrustedProxies: tt.proxies, Filters: []router.HandshakeFilter{f}})
			dialXFF := func(xff string) error {
				d := ws.Dialer{Protocols: []string{"wamp"},
					Header: ws.HandshakeHeaderHTTP(http.Header{"X-Forwarded-For": {xff}})}
				conn, _, _, err := d.Dial(context.Background(), url)
				if err == nil {
					conn.Close()
				}
				return err
			}
			errDenied, errAllowed := dialXFF("203.0.113.5"), dialXFF("198.51.100.1")
			wantDenied, wantAllowed := "127.0.0.1", "127.0.0.1"
			if tt.wantConns == 0 { // behind the proxy: X-Forwarded-For names the client
				wantDenied, wantAllowed = "203.0.113.5", "198.51.100.1"
				var se ws.StatusError
				if !errors.As(errDenied, &se) || int(se) != http.StatusForbidden {
					t.Fatalf("denied client: %v, want 403", errDenied)
				}
			} else if errDenied != nil {
				t.Fatalf("direct client: %v", errDenied)
			}
			if errAllowed != nil {
				t.Fatalf("allowed client: %v", errAllowed)
			}
			if got := f.conns.Load(); got != tt.wantConns {
				t.Errorf("AcceptConn saw %d connections, want %d", got, tt.wantConns)
			}
			if got := <-f.ips + " " + <-f.ips; got != wantDenied+" "+wantAllowed {
				t.Errorf("Handshake saw client IPs %s, want %s %s", got, wantDenied, wantAllowed)
			}
		})
	}
}

func TestHandshakeFilter(t *testing.T) {
	var got *router.Request
	_, url := startServer(t, router.Options{
		Filters: []router.HandshakeFilter{
			router.HandshakeFilterFunc(func(r *router.Request) error {
				if r.Header.Get("Origin") == "https://evil.example" {
					return &router.HTTPError{Status: http.StatusForbidden, Reason: "origin not allowed"}
				}
				got = r
				return nil
			}),
		},
		RPC: router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			return s.Request().URL.Query().Get("user"), nil
		}),
	})
	d := ws.Dialer{Protocols: []string{"wamp"}, Header: ws.HandshakeHeaderHTTP(http.Header{"Origin": {"https://evil.example"}})}
	_, _, _, err := d.Dial(context.Background(), url)
	var se ws.StatusError
	if !errors.As(err, &se) || int(se) != http.StatusForbidden {
		t.Fatalf("dial error %v, want 403", err)
	}
	c := dial(t, url+"?user=42")
	if got == nil || got.URL.Path != "/" || got.Protocols[0] != "wamp" || !strings.HasPrefix(got.Host, "127.0.0.1:") {
		t.Fatalf("request %+v", got)
	}
	if r := c.call(`[2,"1","x"]`); r[2] != "42" {
		t.Fatalf("handler saw %v", r)
	}
}

// denyRPC answers not-authorized for procedures under /private/.
func denyRPC(next router.RPCHandler) router.RPCHandler {
	return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		if strings.Contains(c.URI, "/private/") {
			return nil, &protocol.Error{URI: protocol.ErrorURINotAuthorized, Desc: "not authorized"}
		}
		return next.ServeCall(ctx, s, c)
	})
}

// topicPolicy denies subscriptions to /private/ and stamps publications.
type topicPolicy struct{}

func (topicPolicy) Subscribe(ctx context.Context, s *router.Session, sub *router.Subscription) error {
	if strings.Contains(sub.Topic, "/private/") {
		return errors.New("denied")
	}
	return nil
}

func (topicPolicy) Publish(ctx context.Context, s *router.Session, pub *router.Publication) error {
	if strings.Contains(pub.Topic, "/readonly/") {
		return errors.New("denied")
	}
	pub.Event = []byte(`{"from":"` + s.ID() + `","event":` + string(pub.Event) + `}`)
	return nil
}

func TestRPCMiddlewareAndTopics(t *testing.T) {
	srv, url := startServer(t, router.Options{
		RPC:           testRPC(),
		RPCMiddleware: []router.RPCMiddleware{denyRPC},
		Topics:        []router.TopicHandler{topicPolicy{}},
	})
	c := dial(t, url)
	if r := c.call(`[2,"1","http://example.com/private/x"]`); r[0] != float64(4) || r[2] != protocol.ErrorURINotAuthorized {
		t.Fatalf("denied call answered %v", r)
	}
	if r := c.call(`[2,"2","http://example.com/null"]`); r[0] != float64(3) {
		t.Fatalf("allowed call answered %v", r)
	}
	subscribe(t, c, "http://x.com/private/t", "http://x.com/readonly/t", "http://x.com/t")
	if got := srv.Stats().DroppedSubscribes; got != 1 {
		t.Fatalf("DroppedSubscribes = %d", got)
	}
	pub := dial(t, url)
	pub.Send(`[7,"http://x.com/readonly/t",1]`)
	pub.Send(`[7,"http://x.com/t",1]`)
	if got, want := c.Recv(), `[8,"http://x.com/t",{"from":"`+pub.SessionID+`","event":1}]`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	c.ExpectNothing(quiet)
	if got := srv.Stats().DroppedPublishes; got != 1 {
		t.Fatalf("DroppedPublishes = %d", got)
	}
}

// boundTags is a topic handler that narrows a subscription's tag set while
// the EVENT keeps the subscribed string.
type boundTags struct{ router.TopicFuncs }

func (boundTags) Subscribe(ctx context.Context, s *router.Session, sub *router.Subscription) error {
	tags := map[string]string{"user": "42"}
	for _, tg := range sub.Tags.Tags() {
		if tg.Key != tagindex.BaseKey {
			tags[tg.Key] = tg.Value
		}
	}
	base, _ := sub.Tags.Base()
	set, err := tagindex.NewSet(base, tags)
	sub.Tags = set
	return err
}

func TestTopicHandlerTransformsTags(t *testing.T) {
	_, url := startServer(t, router.Options{Topics: []router.TopicHandler{boundTags{}}})
	c := dial(t, url)
	subscribe(t, c, "http://x.com/news")
	pub := dial(t, url)
	pub.Send(`[7,"http://x.com/news?user=43","not for you"]`)
	pub.Send(`[7,"http://x.com/news?user=42","for you"]`)
	if got := c.Recv(); got != `[8,"http://x.com/news","for you"]` {
		t.Fatalf("got %s", got)
	}
}

// TestSessionRequest checks what a session keeps of its upgrade request:
// everything for the SessionOpened hooks; afterwards Header and Protocols
// only with KeepRequestHeader, and URL as the filter left it.
func TestSessionRequest(t *testing.T) {
	tests := []struct {
		name       string
		keep       bool
		rewrite    func(r *router.Request) // by the handshake filter
		wantHeader string                  // X-Test after the hooks
		wantProtos int
		wantUser   string
		wantURI    string
	}{
		{name: "default", wantUser: "42", wantURI: "/?user=42"},
		{name: "keep", keep: true, wantHeader: "1", wantProtos: 1, wantUser: "42", wantURI: "/?user=42"},
		{name: "URL rewritten", rewrite: func(r *router.Request) { r.URL.RawQuery = "user=7" },
			wantUser: "7", wantURI: "/?user=42"},
		{name: "URI and URL rewritten", rewrite: func(r *router.Request) {
			r.URL.RawQuery = "user=8"
			r.URI = r.URL.RequestURI()
		}, wantUser: "8", wantURI: "/?user=8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hookSaw atomic.Value
			_, url := startServer(t, router.Options{
				KeepRequestHeader: tt.keep,
				Filters: []router.HandshakeFilter{
					router.HandshakeFilterFunc(func(r *router.Request) error {
						r.Header.Set("X-Test", "1")
						if tt.rewrite != nil {
							tt.rewrite(r)
						}
						return nil
					}),
				},
				SessionHooks: []router.SessionHook{router.SessionHookFuncs{OnOpened: func(s *router.Session) {
					hookSaw.Store(s.Request().Header.Get("X-Test") + "," + s.Request().Protocols[0])
				}}},
				RPC: router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
					r := s.Request()
					return []any{r.Header.Get("X-Test"), len(r.Protocols), r.URL.Query().Get("user"), r.URI,
						r.ClientIP.String(), r.RemoteAddr != nil && strings.HasPrefix(r.Host, "127.0.0.1:")}, nil
				}),
			})
			c := dial(t, url+"?user=42")
			got := c.call(`[2,"1","x"]`)[2].([]any)
			want := []any{tt.wantHeader, float64(tt.wantProtos), tt.wantUser, tt.wantURI, "127.0.0.1", true}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("the session's request: %v, want %v", got, want)
			}
			if h := hookSaw.Load(); h != "1,wamp" {
				t.Fatalf("SessionOpened saw %v, want the whole request", h)
			}
		})
	}
}
