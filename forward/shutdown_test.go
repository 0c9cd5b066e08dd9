package forward_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// connStates tracks the connections an httptest server has open, by
// their state, so that a test can see the forwarder close its idle ones.
type connStates struct {
	mu   sync.Mutex
	open map[net.Conn]http.ConnState
}

func (c *connStates) track(nc net.Conn, s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == http.StateClosed || s == http.StateHijacked {
		delete(c.open, nc)
		return
	}
	c.open[nc] = s
}

func (c *connStates) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

// TestShutdownDrains: the router's Shutdown (SIGTERM in cmd/tagwamp)
// lets a forwarded call that is running finish and reach its caller,
// whose session is still open; a call that comes meanwhile answers busy
// at once; then the session is closed with 1001 and the keep-alive
// connection to the service is closed. All over real sockets.
func TestShutdownDrains(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	states := &connStates{open: make(map[net.Conn]http.ConnState)}
	svc := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			<-release
		}
		io.WriteString(w, `{"result": "done"}`)
	}))
	svc.Config.ConnState = states.track
	svc.Start()
	t.Cleanup(svc.Close)

	fw, err := forward.New(forward.Options{Routes: []forward.Route{
		{Name: "slow", Prefix: app + "slow", URL: svc.URL + "/slow"},
		{Name: "fast", Prefix: app, URL: svc.URL + "/fast"},
	}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(router.Options{RPC: fallback, Extensions: []router.Extension{fw.Extension()}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	c := dial(t, "ws://"+ln.Addr().String()+"/")
	wantResult(t, c.call("warm", app+"x"), "warm", `"done"`) // a keep-alive connection to the service
	c.Send(`[2,"c1","` + app + `slow"]`)
	<-arrived

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	for srv.Ready() == nil { // Shutdown has begun: the listener is closed
		time.Sleep(time.Millisecond)
	}
	// Meanwhile the session is open and a new forwarded call is refused.
	wantError(t, c.call("c2", app+"x"), "c2", protocol.ErrorURIBusy, "server shutting down")
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a forwarded call was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	wantResult(t, c.answer(), "c1", `"done"`)
	c.ExpectClose(ws.StatusGoingAway, "server shutting down")
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, router.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); states.count() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to the service still open after Shutdown", states.count())
		}
	}
}

// TestShutdownDeadline: a forwarded call still running when Shutdown's
// context ends is cut short and answers ...#internal, and Shutdown says
// so; the Forwarder's Close after it changes nothing.
func TestShutdownDeadline(t *testing.T) {
	arrived := make(chan struct{}, 1)
	url := backend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the forwarder's hang-up
		arrived <- struct{}{}
		<-r.Context().Done()
	})
	obs := &recorder{}
	e := start(t, forward.Options{Routes: []forward.Route{{Name: "app", Prefix: app, URL: url}}, Observer: obs}, router.Options{})
	fw := e.fw
	c := dial(t, e.url)
	c.Send(`[2,"c1","` + app + `x"]`)
	<-arrived
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := fw.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline", err)
	}
	wantError(t, c.answer(), "c1", protocol.ErrorURIInternal, "internal error")
	fw.Close()
	if got := obs.outcomes(); len(got) != 1 || got[0] != "app/unavailable" {
		t.Errorf("observed %q, want [app/unavailable]", got)
	}
}
