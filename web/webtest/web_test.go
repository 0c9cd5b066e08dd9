package webtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// The CRA server's applications (web/test/integration.test.js signs with
// the secret through WebCrypto).
const (
	craKey       = "application1"
	craSaltedKey = "salted"
	craSecret    = "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW"
)

// TestJavaScriptClient runs `node --test` over web/test/*.test.js with the
// addresses of three real servers in its environment:
//
//	TAGWAMP_URL          an open server: the built-in procedures and urn:tagwamp:test#…
//	TAGWAMP_CRA_URL      a server that requires credentials; keys TAGWAMP_CRA_KEY
//	                     (unsalted) and TAGWAMP_CRA_SALTED_KEY, secret TAGWAMP_CRA_SECRET
//	TAGWAMP_RESTART_URL  an open server that POST TAGWAMP_CONTROL_URL/restart shuts
//	                     down (sessions closed 1001) and serves again on the same
//	                     port, answering once it listens again
//	TAGWAMP_WS_MODULE    the npm package ws, where installed (see wsModule)
//
// It fails with node's output when node fails. Node is needed: under CI
// (CI=true) its absence fails the test, elsewhere it skips.
func TestJavaScriptClient(t *testing.T) {
	node, flags := needNode(t)
	files, err := filepath.Glob(filepath.Join("..", "test", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no web/test/*.test.js: %v", err)
	}

	env := append(os.Environ(),
		"TAGWAMP_URL=ws://"+serve(t, openServer())+"/",
		"TAGWAMP_CRA_URL=ws://"+serve(t, craServer(t))+"/",
		"TAGWAMP_CRA_KEY="+craKey,
		"TAGWAMP_CRA_SALTED_KEY="+craSaltedKey,
		"TAGWAMP_CRA_SECRET="+craSecret,
	)
	rs := newRestartable(t)
	env = append(env, "TAGWAMP_RESTART_URL=ws://"+rs.addr+"/", "TAGWAMP_CONTROL_URL=http://"+rs.control)

	if dir := wsModule(); dir != "" {
		env = append(env, "TAGWAMP_WS_MODULE="+dir)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(append(flags, "--test", "--test-reporter=spec"), files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("node --test web/test: %v\n%s", err, out.Bytes())
	}
	t.Logf("node --test web/test:\n%s", out.Bytes())
}

// needNode returns node's path and the flags it needs for a global
// WebSocket (Node 20: --experimental-websocket; 22 and later: none).
func needNode(t *testing.T) (string, []string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("web/webtest: %s (CI=true requires it)", what)
		}
		t.Skipf("web/webtest: %s; install Node >= 20 to test the JavaScript client", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	probe := "process.exit(typeof WebSocket === 'function' && typeof crypto?.subtle === 'object' ? 0 : 1)"
	for _, flags := range [][]string{nil, {"--experimental-websocket"}} {
		if exec.Command(node, append(flags, "-e", probe)...).Run() == nil {
			return node, flags
		}
	}
	missing("this node has no global WebSocket or WebCrypto (Node >= 20 is needed)")
	return "", nil
}

// wsModule returns the directory of the npm package ws where one is
// installed (interop/node_modules has it after `npm ci --prefix interop`,
// which .ci/run does), for the test that passes it as the WebSocket option;
// "" where there is none (that test skips).
func wsModule() string {
	for _, dir := range []string{os.Getenv("TAGWAMP_WS_MODULE"), "../node_modules/ws", "../../interop/node_modules/ws"} {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
			if abs, err := filepath.Abs(dir); err == nil {
				return abs
			}
		}
	}
	return ""
}

// serve serves srv on a loopback port until the test ends and returns
// the address.
func serve(t *testing.T, srv *router.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() { shutdown(t, srv, done) })
	return ln.Addr().String()
}

func shutdown(t *testing.T, srv *router.Server, done <-chan error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	if err := <-done; !errors.Is(err, router.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
}

// testProcs registers the procedures the node tests call besides the
// built-in ones:
//
//	urn:tagwamp:test#fail(details)  CALLERROR urn:tagwamp:test#oops, "it failed", details
//	urn:tagwamp:test#slow(ms)       answers "slept" after ms milliseconds (at most 10 s)
func testProcs(mux *handlers.Mux) {
	mux.HandleFunc("urn:tagwamp:test#fail", func(_ context.Context, _ *router.Session, c *router.Call) (any, error) {
		var details any = map[string]any{"args": len(c.Args)}
		if len(c.Args) > 0 {
			details = c.Args[0]
		}
		return nil, &protocol.Error{URI: "urn:tagwamp:test#oops", Desc: "it failed", Details: details}
	})
	mux.HandleFunc("urn:tagwamp:test#slow", func(ctx context.Context, _ *router.Session, c *router.Call) (any, error) {
		ms := 0
		if len(c.Args) > 0 {
			ms, _ = strconv.Atoi(string(c.Args[0]))
		}
		select {
		case <-time.After(min(time.Duration(ms)*time.Millisecond, 10*time.Second)):
		case <-ctx.Done():
		}
		return "slept", nil
	})
}

func openServer() *router.Server {
	mux := new(handlers.Mux)
	srv := router.New(router.Options{RPC: mux})
	handlers.RegisterBuiltins(mux, srv)
	testProcs(mux)
	return srv
}

func craServer(t *testing.T) *router.Server {
	perms := &auth.Permissions{
		RPC:    []auth.RPCRule{{URI: "urn:tagwamp:test#", Prefix: true, Call: true}},
		PubSub: []auth.TopicRule{{URI: "http://example.com/", Prefix: true, Pub: true, Sub: true}},
	}
	a, err := auth.New(auth.Options{
		RequireCredentials: true,
		FailDelay:          10 * time.Millisecond,
		Applications: []auth.Application{
			{Key: craKey, Secret: craSecret, AuthorizeOpen: true, Permissions: perms},
			{Key: craSaltedKey, Secret: craSecret, AuthorizeOpen: true, Permissions: perms,
				CRA: &auth.SaltParams{Salt: "pepper", Iterations: 1000, KeyLen: 16}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := new(handlers.Mux)
	testProcs(mux)
	mux.HandleFunc("urn:tagwamp:test#private", func(context.Context, *router.Session, *router.Call) (any, error) {
		return "private ok", nil
	})
	return router.New(router.Options{RPC: mux, Extensions: []router.Extension{a.Extension()}})
}

// restartable is an open server on a fixed loopback port that a control
// endpoint restarts: POST /restart shuts it down and serves a new one on
// the same port, and answers 200 once that one listens.
type restartable struct {
	addr, control string

	mu   sync.Mutex
	srv  *router.Server
	done chan error
}

func newRestartable(t *testing.T) *restartable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{addr: ln.Addr().String()}
	r.start(ln)
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.srv != nil {
			shutdown(t, r.srv, r.done)
		}
	})

	cln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.control = cln.Addr().String()
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/restart" {
			http.Error(w, "POST /restart", http.StatusNotFound)
			return
		}
		if err := r.restart(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "restarted")
	})}
	go hs.Serve(cln)
	t.Cleanup(func() { hs.Close() })
	return r
}

func (r *restartable) start(ln net.Listener) {
	r.srv = openServer()
	r.done = make(chan error, 1)
	srv, done := r.srv, r.done
	go func() { done <- srv.Serve(ln) }()
}

func (r *restartable) restart() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil {
		return errors.New("an earlier restart failed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
	err := <-r.done
	r.srv = nil
	if !errors.Is(err, router.ErrServerClosed) {
		return fmt.Errorf("Serve: %w", err)
	}
	var ln net.Listener
	for range 50 { // the old listener's port is free once Serve returned; retry in case
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	r.start(ln)
	return nil
}
