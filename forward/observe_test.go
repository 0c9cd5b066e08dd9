package forward_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// recorder is a forward.Observer that records "route/outcome" per call.
type recorder struct {
	mu  sync.Mutex
	got []string
	neg bool // a negative duration was observed
}

func (r *recorder) ObserveCall(route string, o forward.Outcome, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, route+"/"+o.String())
	r.neg = r.neg || d < 0
}

func (r *recorder) outcomes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// TestObserver: every forwarded call is observed once, under its route's
// name and the outcome its answer documents, over a real router and
// real services.
func TestObserver(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	blocking := backend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-release
		io.WriteString(w, `{"result": 1}`)
	})
	slow := backend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	})
	obs := &recorder{}
	routes := []forward.Route{
		{Name: "ok", Prefix: "http://x.com/ok#", URL: backend(t, answer(200, `{"result": 1}`))},
		{Name: "error", Prefix: "http://x.com/error#", URL: backend(t, answer(200, `{"error": {"uri": "http://x.com/e#no"}}`))},
		{Name: "timeout", Prefix: "http://x.com/timeout#", URL: slow, Timeout: 50 * time.Millisecond},
		{Name: "status", Prefix: "http://x.com/status#", URL: backend(t, answer(503, `down`))},
		{Name: "unreachable", Prefix: "http://x.com/unreachable#", URL: unreachable(t)},
		{Name: "bad", Prefix: "http://x.com/bad#", URL: backend(t, answer(200, `{"nothing": 1}`))},
		{Name: "large", Prefix: "http://x.com/large#", URL: backend(t, answer(200, `{"result": "`+strings.Repeat("x", 2000)+`"}`))},
		{Name: "one", Prefix: "http://x.com/one#", URL: blocking, MaxInFlight: 1},
	}
	e := start(t, forward.Options{Routes: routes, Observer: obs, MaxResponseBytes: 1000}, router.Options{})
	c := dial(t, e.url)
	for _, tc := range []struct {
		uri, want, errURI string
	}{
		{"http://x.com/ok#a", "ok/ok", ""},
		{"http://x.com/error#a", "error/error", "http://x.com/e#no"},
		{"http://x.com/timeout#a", "timeout/timeout", protocol.ErrorURITimeout},
		{"http://x.com/status#a", "status/unavailable", protocol.ErrorURIInternal},
		{"http://x.com/unreachable#a", "unreachable/unavailable", protocol.ErrorURIInternal},
		{"http://x.com/bad#a", "bad/bad_answer", protocol.ErrorURIInternal},
		{"http://x.com/large#a", "large/bad_answer", protocol.ErrorURIInternal},
	} {
		t.Run(tc.want, func(t *testing.T) {
			before := len(obs.outcomes())
			m := c.call("c", tc.uri)
			if tc.errURI == "" {
				wantResult(t, m, "c", "1")
			} else {
				wantError(t, m, "c", tc.errURI, "")
			}
			// The answer is sent before the observation: wait for it.
			for deadline := time.Now().Add(10 * time.Second); len(obs.outcomes()) == before; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("not observed")
				}
			}
			if got := obs.outcomes(); len(got) != before+1 || got[before] != tc.want {
				t.Fatalf("observed %q, want %q last", got, tc.want)
			}
		})
	}
	t.Run("one/busy", func(t *testing.T) {
		c.Send(`[2,"c1","http://x.com/one#a"]`)
		<-arrived
		wantError(t, c.call("c2", "http://x.com/one#a"), "c2", protocol.ErrorURIBusy, "")
		close(release)
		wantResult(t, c.answer(), "c1", "1")
		for deadline := time.Now().Add(10 * time.Second); !strings.HasSuffix(strings.Join(obs.outcomes(), " "), "one/busy one/ok"); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("observed %q, want one/busy then one/ok last", obs.outcomes())
			}
		}
	})
	obs.mu.Lock()
	neg := obs.neg
	obs.mu.Unlock()
	if neg {
		t.Error("a negative duration was observed")
	}
}
