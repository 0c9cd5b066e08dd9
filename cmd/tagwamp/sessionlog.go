package main

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// openedKey is the session value (router.Session.SetValue) logSessions
// keeps for a session: an opened.
type openedKey struct{}

// opened is when a session opened and its client's address.
type opened struct {
	at     time.Time
	client netip.Addr
}

// logSessions logs each session's close at debug level: its id, client
// address, whether it was a plain tag connection, how long it lasted, and
// the WebSocket bytes it read and wrote (saturating at 4 GiB). The close
// code and reason are on the transport's "session closing" line just
// before (the router keeps neither per session), logged at debug too when
// the close was a close handshake. It is installed at debug level only,
// and costs one session value per session.
func logSessions(logger *slog.Logger) router.SessionHook {
	return router.SessionHookFuncs{
		OnOpened: func(s *router.Session) {
			s.SetValue(openedKey{}, opened{at: time.Now(), client: s.Request().ClientIP})
		},
		OnClosed: func(s *router.Session) {
			o, _ := s.Value(openedKey{}).(opened)
			logger.Debug("session closed", "session", s.ID(), "client", o.client.String(), "plain", s.Plain(),
				"duration", time.Since(o.at).Round(time.Millisecond),
				"bytes_read", s.BytesRead(), "bytes_written", s.BytesWritten())
		},
	}
}
