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
// address, whether it was a plain tag connection, and how long it lasted.
// The router does not tell hooks the close code, the reason or the bytes
// a session moved, so neither does this line. It is installed at debug
// level only, and costs one session value per session.
func logSessions(logger *slog.Logger) router.SessionHook {
	return router.SessionHookFuncs{
		OnOpened: func(s *router.Session) {
			s.SetValue(openedKey{}, opened{at: time.Now(), client: s.Request().ClientIP})
		},
		OnClosed: func(s *router.Session) {
			o, _ := s.Value(openedKey{}).(opened)
			logger.Debug("session closed", "session", s.ID(), "client", o.client.String(), "plain", s.Plain(),
				"duration", time.Since(o.at).Round(time.Millisecond))
		},
	}
}
