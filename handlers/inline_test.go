package handlers

import (
	"log/slog"
	"testing"

	"github.com/tagwamp/tagwamp/router"
)

// TestMuxInline: a call is inline when the handler its URI routes to
// says so (router.Inline, the built-ins), and for a URI nothing answers;
// LogCalls keeps what the handler it wraps says.
func TestMuxInline(t *testing.T) {
	var m Mux
	RegisterBuiltins(&m, fakeInfo{})
	m.Handle("urn:plain", named("plain"))
	m.Handle("urn:inline", router.Inline(named("inline")))
	m.HandlePrefix("urn:pre/", router.Inline(named("prefix")))
	logged := LogCalls(slog.New(slog.DiscardHandler))(&m).(router.InlineHandler)
	for _, tc := range []struct {
		uri  string
		want bool
	}{
		{ProcPing, true},
		{ProcEcho, true},
		{ProcSessionInfo, true},
		{ProcServerInfo, true},
		{"urn:plain", false},
		{"urn:inline", true},
		{"urn:pre/x", true},
		{"urn:nobody", true},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			c := &router.Call{URI: tc.uri}
			if got := m.Inline(c); got != tc.want {
				t.Errorf("Mux.Inline = %v, want %v", got, tc.want)
			}
			if got := logged.Inline(c); got != tc.want {
				t.Errorf("LogCalls(Mux).Inline = %v, want %v", got, tc.want)
			}
		})
	}
	if _, ok := LogCalls(slog.New(slog.DiscardHandler))(named("x")).(router.InlineHandler); !ok {
		t.Fatal("LogCalls's handler does not implement router.InlineHandler")
	}
}
