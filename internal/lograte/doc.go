// Package lograte bounds how fast log lines reach a slog.Handler, so that
// a client who can make the server log (a refused connection, a bad
// handshake, a denied call) cannot flood the log, fill the disk or slow the
// server with it.
//
//	h := lograte.New(slog.NewJSONHandler(os.Stderr, nil), lograte.Options{PerSecond: 10, Burst: 100})
//	defer h.Flush()
//	logger := slog.New(h)
//
// Each distinct message text (slog.Record.Message, never its attributes)
// has its own token bucket: PerSecond lines a second, up to Burst at once.
// A line past it is dropped and counted; at most once per Interval a
// summary follows, at warn level or the dropped lines' level if higher:
//
//	level=WARN msg="dropped 4181 log lines like: connection refused" dropped=4181
//
// The messages are the program's own constant strings, so the buckets are
// few; still, at most MaxMessages are kept, and the messages past them share
// one more. Attributes may come from clients: they must be bounded where
// they are logged (internal/logval).
//
// A Handler and the handlers WithAttrs and WithGroup derive from it share
// their buckets; all are safe for concurrent use. Summaries are written
// from a timer's goroutine through the handler that dropped the last line;
// Flush writes the pending ones at once (call it before the program exits).
// The handler never holds its lock while it calls the next handler.
package lograte
