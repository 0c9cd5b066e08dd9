package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/router"
)

// LogCalls returns a router.RPCMiddleware that logs every call at debug
// level when it returns: msg "rpc call", with uri, session (its id), dur
// (the handler's duration) and, when the call failed, error_uri, the
// CALLERROR URI the router will answer with (router.CallError,
// docs/protocol.md#errors). It never logs arguments or results, which may
// hold secrets.
//
// When logger does not enable debug level for the call's context, the
// middleware costs one Enabled check per call. A nil logger logs nothing.
func LogCalls(logger *slog.Logger) router.RPCMiddleware {
	return func(next router.RPCHandler) router.RPCHandler {
		if logger == nil {
			return next
		}
		return logCalls{next, router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			if !logger.Enabled(ctx, slog.LevelDebug) {
				return next.ServeCall(ctx, s, c)
			}
			start := time.Now()
			res, err := next.ServeCall(ctx, s, c)
			attrs := []slog.Attr{
				slog.String("uri", logval.String(c.URI)),
				slog.String("session", sessionID(s)),
				slog.Duration("dur", time.Since(start)),
			}
			if err != nil {
				attrs = append(attrs, slog.String("error_uri", router.CallError(c.URI, err).URI))
			}
			logger.LogAttrs(ctx, slog.LevelDebug, "rpc call", attrs...)
			return res, err
		})}
	}
}

// logCalls is LogCalls's handler: a call is inline when next says so
// (router.InlineHandler), logging adding no wait of its own.
type logCalls struct {
	next router.RPCHandler
	router.RPCHandlerFunc
}

// Inline asks next.
func (l logCalls) Inline(c *router.Call) bool {
	ih, ok := l.next.(router.InlineHandler)
	return ok && ih.Inline(c)
}

// sessionID returns s's id, or "" for a nil session (tests, server-side
// calls).
func sessionID(s *router.Session) string {
	if s == nil {
		return ""
	}
	return s.ID()
}
