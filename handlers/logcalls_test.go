package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

func TestLogCalls(t *testing.T) {
	tests := []struct {
		name     string
		level    slog.Level
		err      error
		wantLog  bool
		errorURI string
	}{
		{"ok", slog.LevelDebug, nil, true, ""},
		{"protocol error", slog.LevelDebug, protocol.NewError("urn:e#mine", "d"), true, "urn:e#mine"},
		{"wrapped protocol error", slog.LevelDebug, fmt.Errorf("x: %w", protocol.NewError("urn:e#w", "d")), true, "urn:e#w"},
		{"no such procedure", slog.LevelDebug, &NoProcedureError{URI: "u"}, true, protocol.ErrorURINoSuchProcedure},
		{"timeout", slog.LevelDebug, context.DeadlineExceeded, true, protocol.ErrorURITimeout},
		{"internal", slog.LevelDebug, errors.New("db down"), true, protocol.ErrorURIInternal},
		{"info level logs nothing", slog.LevelInfo, nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			next := router.RPCHandlerFunc(func(context.Context, *router.Session, *router.Call) (any, error) {
				return "result-secret", tt.err
			})
			h := LogCalls(logger)(next)
			call := &router.Call{URI: "urn:proc", Args: []json.RawMessage{json.RawMessage(`"arg-secret"`)}}
			res, err := h.ServeCall(context.Background(), nil, call)
			if res != "result-secret" || err != tt.err {
				t.Fatalf("ServeCall = %v, %v: the middleware changed the answer", res, err)
			}
			out := buf.String()
			if !tt.wantLog {
				if out != "" {
					t.Fatalf("logged %q", out)
				}
				return
			}
			for _, want := range []string{"level=DEBUG", `msg="rpc call"`, "uri=urn:proc", "session=", "dur="} {
				if !strings.Contains(out, want) {
					t.Errorf("log %q lacks %q", out, want)
				}
			}
			if tt.errorURI != "" && !strings.Contains(out, "error_uri="+tt.errorURI) {
				t.Errorf("log %q lacks error_uri=%s", out, tt.errorURI)
			}
			if tt.errorURI == "" && strings.Contains(out, "error_uri") {
				t.Errorf("log %q has an error_uri", out)
			}
			if strings.Contains(out, "secret") {
				t.Errorf("log %q leaks arguments or results", out)
			}
		})
	}
}

func TestLogCallsNilLogger(t *testing.T) {
	next := named("n")
	if h := LogCalls(nil)(next); h != router.RPCHandler(next) {
		t.Fatalf("LogCalls(nil) wrapped the handler")
	}
}
