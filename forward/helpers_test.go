package forward_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/internal/leakcheck"
	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// TestMain fails the run if goroutines of this package outlive the tests.
func TestMain(m *testing.M) {
	leakcheck.Main(m, leakcheck.Options{Wait: 10 * time.Second, Leaked: func(g string) bool {
		return strings.Contains(g, "tagwamp/forward.")
	}})
}

// fallback answers the calls no route takes with "fallback".
var fallback = router.RPCHandlerFunc(func(context.Context, *router.Session, *router.Call) (any, error) {
	return "fallback", nil
})

// env is a router with a Forwarder installed, on a loopback port.
type env struct {
	fw   *forward.Forwarder
	srv  *router.Server
	url  string
	logs *syncBuffer
}

// start serves a router with a Forwarder for opts (and ro's other
// options) and shuts both down with the test: the router first.
func start(t *testing.T, opts forward.Options, ro router.Options) *env {
	t.Helper()
	e := &env{logs: &syncBuffer{}}
	opts.Logger = slog.New(slog.NewTextHandler(e.logs, nil))
	fw, err := forward.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fw.Close)
	e.fw = fw
	if ro.RPC == nil {
		ro.RPC = fallback
	}
	ro.Extensions = append(ro.Extensions, fw.Extension())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.srv = router.New(ro)
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, router.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	e.url = "ws://" + ln.Addr().String() + "/"
	return e
}

// backend serves h on a loopback port until the test ends.
func backend(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// answer returns a handler that answers every request with status and
// body.
func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// unreachable returns a URL nothing listens on.
func unreachable(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/"
	ln.Close()
	return u
}

// wamp is wstest's client with WAMP helpers.
type wamp struct{ *wstest.Client }

func dial(t *testing.T, url string) *wamp {
	t.Helper()
	return &wamp{wstest.Dial(t, url, wstest.Options{})}
}

// call sends a CALL with id and the raw JSON args, and returns the
// answer's elements.
func (c *wamp) call(id, uri string, args ...string) []json.RawMessage {
	c.T.Helper()
	msg := fmt.Sprintf(`[2,%q,%q`, id, uri)
	for _, a := range args {
		msg += "," + a
	}
	c.Send(msg + "]")
	return c.answer()
}

// answer reads the next message as a JSON array.
func (c *wamp) answer() []json.RawMessage {
	c.T.Helper()
	var m []json.RawMessage
	c.RecvJSON(&m)
	return m
}

// wantResult checks m is a CALLRESULT of id with result.
func wantResult(t *testing.T, m []json.RawMessage, id, result string) {
	t.Helper()
	if len(m) != 3 || string(m[0]) != "3" || string(m[1]) != `"`+id+`"` || string(m[2]) != result {
		t.Fatalf("got %s, want [3,%q,%s]", m, id, result)
	}
}

// wantError checks m is a CALLERROR of id with uri and, unless "",
// desc.
func wantError(t *testing.T, m []json.RawMessage, id, uri, desc string) {
	t.Helper()
	var gotURI, gotDesc string
	if len(m) < 4 || string(m[0]) != "4" || string(m[1]) != `"`+id+`"` ||
		json.Unmarshal(m[2], &gotURI) != nil || json.Unmarshal(m[3], &gotDesc) != nil ||
		gotURI != uri || (desc != "" && gotDesc != desc) {
		t.Fatalf("got %s, want [4,%q,%q,%q...]", m, id, uri, desc)
	}
}

// syncBuffer is a strings.Builder safe for concurrent writes (the log).
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
