package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tagwamp/tagwamp/router"
)

// named is a handler answering its own name.
type named string

func (n named) ServeCall(context.Context, *router.Session, *router.Call) (any, error) {
	return string(n), nil
}

func TestMuxDispatch(t *testing.T) {
	var m Mux
	m.Handle("http://ex.com/calc#add", named("add"))
	m.Handle("http://ex.com/calc#", named("exact-hash"))
	m.HandlePrefix("http://ex.com/calc#", named("calc-prefix"))
	m.HandlePrefix("http://ex.com/calc#admin.", named("admin-prefix"))
	m.HandlePrefix("http://ex.com/", named("site-prefix"))
	m.HandleFunc("urn:f", func(context.Context, *router.Session, *router.Call) (any, error) { return "f", nil })

	tests := []struct {
		uri, want, pattern string
	}{
		{"http://ex.com/calc#add", "add", "http://ex.com/calc#add"},
		{"http://ex.com/calc#", "exact-hash", "http://ex.com/calc#"},
		{"http://ex.com/calc#sub", "calc-prefix", "http://ex.com/calc#"},
		{"http://ex.com/calc#addition", "calc-prefix", "http://ex.com/calc#"},
		{"http://ex.com/calc#admin.reset", "admin-prefix", "http://ex.com/calc#admin."},
		{"http://ex.com/calc#admin", "calc-prefix", "http://ex.com/calc#"},
		{"http://ex.com/other", "site-prefix", "http://ex.com/"},
		{"http://ex.com/", "site-prefix", "http://ex.com/"},
		{"urn:f", "f", "urn:f"},
		{"http://ex.com", "", ""},
		{"http://other.com/calc#add", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			h, pattern := m.Handler(tt.uri)
			if pattern != tt.pattern {
				t.Errorf("pattern = %q, want %q", pattern, tt.pattern)
			}
			got, err := m.ServeCall(context.Background(), nil, &router.Call{URI: tt.uri})
			if tt.want == "" {
				if h != nil {
					t.Errorf("Handler returned %v, want nil", h)
				}
				var npe *NoProcedureError
				if !errors.Is(err, router.ErrNoSuchProcedure) || !errors.As(err, &npe) || npe.URI != tt.uri {
					t.Fatalf("err = %v, want a NoProcedureError for %q", err, tt.uri)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ServeCall = %v, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestMuxFallbackPrefix(t *testing.T) {
	var m Mux
	m.HandlePrefix("", named("fallback"))
	m.HandlePrefix("urn:a", named("a"))
	for uri, want := range map[string]string{"": "fallback", "x": "fallback", "urn:ab": "a"} {
		if got, err := m.ServeCall(context.Background(), nil, &router.Call{URI: uri}); got != want || err != nil {
			t.Errorf("ServeCall(%q) = %v, %v; want %q", uri, got, err, want)
		}
	}
}

func TestMuxEmpty(t *testing.T) {
	var m Mux
	_, err := m.ServeCall(context.Background(), nil, &router.Call{URI: "urn:x"})
	if !errors.Is(err, router.ErrNoSuchProcedure) {
		t.Fatalf("err = %v, want ErrNoSuchProcedure", err)
	}
	if want := "handlers: no procedure registered for urn:x"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if e, p := m.Patterns(); e != nil || p != nil {
		t.Errorf("Patterns = %v, %v", e, p)
	}
}

func TestMuxRegistrationPanics(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m *Mux)
		want  string
	}{
		{"duplicate exact", func(m *Mux) { m.Handle("u", named("a")); m.Handle("u", named("b")) }, "multiple registrations for u"},
		{"duplicate prefix", func(m *Mux) { m.HandlePrefix("u", named("a")); m.HandlePrefix("u", named("b")) }, "multiple registrations for u"},
		{"empty uri", func(m *Mux) { m.Handle("", named("a")) }, "empty URI"},
		{"nil handler", func(m *Mux) { m.Handle("u", nil) }, "nil handler"},
		{"nil prefix handler", func(m *Mux) { m.HandlePrefix("u", nil) }, "nil handler"},
		{"nil func", func(m *Mux) { m.HandleFunc("u", nil) }, "nil func"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tt.want) {
					t.Fatalf("panic = %v, want one containing %q", r, tt.want)
				}
			}()
			tt.setup(new(Mux))
		})
	}
}

func TestMuxExactAndPrefixSameKey(t *testing.T) {
	var m Mux
	m.Handle("u", named("exact"))
	m.HandlePrefix("u", named("prefix")) // not a duplicate: a different kind
	exact, prefixes := m.Patterns()
	if fmt.Sprint(exact, prefixes) != "[u] [u]" {
		t.Fatalf("Patterns = %v, %v", exact, prefixes)
	}
}

func TestMuxConcurrent(t *testing.T) {
	var m Mux
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				uri := fmt.Sprintf("urn:%d:%d", w, i)
				m.Handle(uri, named(uri))
				m.HandlePrefix(uri+"/", named(uri+"/"))
			}
		})
		wg.Go(func() {
			for i := range 200 {
				uri := fmt.Sprintf("urn:%d:%d/x", w, i%50)
				if got, err := m.ServeCall(context.Background(), nil, &router.Call{URI: uri}); err == nil && got != uri[:len(uri)-1] {
					t.Errorf("ServeCall(%q) = %v", uri, got)
				}
			}
		})
	}
	wg.Wait()
	exact, prefixes := m.Patterns()
	if len(exact) != 200 || len(prefixes) != 200 {
		t.Fatalf("registered %d exact, %d prefixes; want 200 each", len(exact), len(prefixes))
	}
}

func TestMuxLookupAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	var m Mux
	var result any = "r" // boxed once, so that only the mux is measured
	h := router.RPCHandlerFunc(func(context.Context, *router.Session, *router.Call) (any, error) { return result, nil })
	m.Handle("http://ex.com/a", h)
	for i := range 20 {
		m.HandlePrefix(fmt.Sprintf("http://ex.com/%s#", strings.Repeat("p", i)), h)
	}
	call := &router.Call{URI: "http://ex.com/ppppp#x", Args: []json.RawMessage{json.RawMessage(`1`)}}
	n := testing.AllocsPerRun(100, func() {
		if _, err := m.ServeCall(context.Background(), nil, call); err != nil {
			t.Fatal(err)
		}
		if h, _ := m.Handler("http://ex.com/a"); h == nil {
			t.Fatal("no handler")
		}
	})
	if n != 0 {
		t.Fatalf("lookup allocates %v times, want 0", n)
	}
}

func BenchmarkMuxLookup(b *testing.B) {
	var m Mux
	for i := range 100 {
		m.Handle(fmt.Sprintf("http://ex.com/proc#%d", i), named("e"))
		m.HandlePrefix(fmt.Sprintf("http://ex.com/p%d#", i), named("p"))
	}
	for _, uri := range []string{"http://ex.com/proc#42", "http://ex.com/p42#anything", "http://ex.com/none"} {
		b.Run("uri="+uri[len("http://ex.com/"):], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Handler(uri)
			}
		})
	}
}

// TestMuxLastRoute: lookups in any order, before and after more routes
// are registered (an exact route where a prefix answered), from several
// goroutines, each find their own route: what any cache of the last
// route found would have to keep.
func TestMuxLastRoute(t *testing.T) {
	var m Mux
	m.Handle("urn:a", named("a"))
	m.HandlePrefix("urn:a", named("a-prefix"))
	m.Handle("urn:ab", named("ab"))
	want := map[string]string{"urn:a": "a", "urn:ab": "ab", "urn:abc": "a-prefix", "urn:a/": "a-prefix", "urn:b": ""}
	check := func(uri string) {
		got, err := m.ServeCall(context.Background(), nil, &router.Call{URI: uri})
		switch w := want[uri]; {
		case w == "" && err == nil:
			t.Errorf("%s: answered %v, want no procedure", uri, got)
		case w != "" && got != w:
			t.Errorf("%s: answered %v (%v), want %s", uri, got, err, w)
		}
	}
	order := []string{"urn:a", "urn:a", "urn:ab", "urn:a", "urn:abc", "urn:a", "urn:b", "urn:ab", "urn:a/", "urn:ab"}
	for _, uri := range order {
		check(uri)
	}
	m.Handle("urn:abc", named("abc")) // an exact route where the prefix answered
	m.Handle("urn:b", named("b"))
	want["urn:abc"], want["urn:b"] = "abc", "b"
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 400 {
				check(order[(i+g)%len(order)])
			}
		})
	}
	wg.Wait()
}

// BenchmarkMuxLookupParallel is the lookup on every CPU at once: "same"
// calls one procedure, "alternating" two in turn, as workers serving
// different procedures do.
func BenchmarkMuxLookupParallel(b *testing.B) {
	var m Mux
	for i := range 100 {
		m.Handle(fmt.Sprintf("http://tagwamp.dev/procedure#p%d", i), named("e"))
	}
	for _, tc := range []struct {
		name string
		uris []string
	}{
		{"same", []string{"http://tagwamp.dev/procedure#p42"}},
		{"alternating", []string{"http://tagwamp.dev/procedure#p42", "http://tagwamp.dev/procedure#p7"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					m.Handler(tc.uris[i%len(tc.uris)])
					i++
				}
			})
		})
	}
}
