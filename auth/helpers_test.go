package auth

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/leakcheck"
	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// TestMain fails the run if goroutines of this package (a delayed CRA
// answer, an auth timer) outlive the tests.
func TestMain(m *testing.M) {
	leakcheck.Main(m, leakcheck.Options{Wait: 10 * time.Second, Leaked: func(g string) bool {
		return strings.Contains(g, "tagwamp/auth.") && !strings.Contains(g, "auth.TestMain")
	}})
}

const (
	appKey    = "application1"
	appSecret = Secret("B4ajW3P7jfWEYPZsQV8mnteHg97G67uW")
)

// whoami is the procedure tests call to see a session's identity.
const whoami = "urn:test#whoami"

// startAuth serves a router with a installed and returns the ws:// URL.
// Its RPC handler answers whoami with the caller's identity and any other
// URI with "ok:<uri>".
func startAuth(t testing.TB, o Options, ro router.Options) (*Auth, *router.Server, string) {
	t.Helper()
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if ro.RPC == nil {
		ro.RPC = router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			if c.URI == whoami {
				id := IdentityOf(s)
				return map[string]string{"method": id.Method.String(), "key": id.Key, "subject": id.Subject,
					"bound": id.Bound.String(), "uri": s.Request().URI}, nil
			}
			return "ok:" + c.URI, nil
		})
	}
	ro.Extensions = append(ro.Extensions, a.Extension())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(ro)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		<-done
	})
	return a, srv, "ws://" + ln.Addr().String() + "/"
}

// wsClient is wstest's raw WebSocket client with this package's WAMP
// helpers.
type wsClient struct{ *wstest.Client }

// dial opens a WAMP session at url (with its query) and reads WELCOME.
func dial(t testing.TB, url string) *wsClient {
	t.Helper()
	return &wsClient{wstest.Dial(t, url, wstest.Options{})}
}

// call sends [2, id, uri, args...] and returns the answer to that id.
func (c *wsClient) call(id, uri string, args ...any) []any {
	c.T.Helper()
	msg := []any{2, id, uri}
	msg = append(msg, args...)
	b, err := json.Marshal(msg)
	if err != nil {
		c.T.Fatal(err)
	}
	c.Send(string(b))
	var r []any
	c.RecvJSON(&r)
	if len(r) < 3 || r[1] != id {
		c.T.Fatalf("answer %v is not for call %s", r, id)
	}
	return r
}

// mustResult calls and returns the CALLRESULT's result.
func (c *wsClient) mustResult(uri string, args ...any) any {
	c.T.Helper()
	r := c.call("r", uri, args...)
	if r[0] != float64(3) {
		c.T.Fatalf("call %s %v: got %v", uri, args, r)
	}
	return r[2]
}

// callError calls and returns the CALLERROR's URI and description.
func (c *wsClient) callError(uri string, args ...any) (string, string) {
	c.T.Helper()
	r := c.call("e", uri, args...)
	if r[0] != float64(4) || len(r) < 4 {
		c.T.Fatalf("call %s %v: want a CALLERROR, got %v", uri, args, r)
	}
	return r[2].(string), r[3].(string)
}

// expectEvent reads the next message and checks it is EVENT(topic, event).
func (c *wsClient) expectEvent(topic string, event any) {
	c.T.Helper()
	var r []any
	c.RecvJSON(&r)
	want, _ := json.Marshal([]any{8, topic, event})
	got, _ := json.Marshal(r)
	if string(got) != string(want) {
		c.T.Fatalf("got %s, want %s", got, want)
	}
}
