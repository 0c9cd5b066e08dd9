package main

import (
	"log/slog"
	"net"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/router"
)

// logRefusals wraps the handshake filter f (named name in the log) so that
// the upgrades it refuses are logged at info level: the router logs a
// refused upgrade at debug only, while a connection filter's refusal
// (router.ConnFilter, kept here when f is one) and the auth and limit
// refusals are logged at info. The server's logger is rate-limited, so a
// flood of refusals cannot flood the log.
func logRefusals(name string, f router.HandshakeFilter, logger *slog.Logger) router.HandshakeFilter {
	l := &refusalLog{name: name, f: f, log: logger}
	if cf, ok := f.(router.ConnFilter); ok {
		return &connRefusalLog{l, cf}
	}
	return l
}

// refusalLog is a handshake filter that logs what its filter refuses.
type refusalLog struct {
	name string
	f    router.HandshakeFilter
	log  *slog.Logger
}

// Handshake asks the filter, and logs its refusal.
func (l *refusalLog) Handshake(r *router.Request) error {
	err := l.f.Handshake(r)
	if err != nil {
		l.log.Info("connection refused: "+l.name, "client", r.ClientIP.String(),
			"origin", logval.String(r.Header.Get("Origin")), "reason", logval.String(err.Error()))
	}
	return err
}

// connRefusalLog is a refusalLog whose filter also filters connections.
type connRefusalLog struct {
	*refusalLog
	cf router.ConnFilter
}

// AcceptConn asks the filter; the router logs its refusals.
func (l *connRefusalLog) AcceptConn(c net.Conn) error { return l.cf.AcceptConn(c) }
