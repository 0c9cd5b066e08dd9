package handlers

import (
	"context"
	"runtime"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// The URIs under which RegisterBuiltins registers the built-in procedures;
// doc.go describes their results.
const (
	ProcServerInfo  = "http://tagwamp.dev/procedure#server-info"
	ProcPing        = "http://tagwamp.dev/procedure#ping"
	ProcEcho        = "http://tagwamp.dev/procedure#echo"
	ProcSessionInfo = "http://tagwamp.dev/procedure#session-info"
)

// InfoSource is what ServerInfo reads; *router.Server satisfies it.
type InfoSource interface {
	Stats() router.Stats
}

// ServerInfoResult is the result of ServerInfo.
type ServerInfoResult struct {
	// Server is "tagwamp/<Version>".
	Server string `json:"server"`
	// Version is router.Version.
	Version string `json:"version"`
	// UptimeSeconds is the whole seconds since the server started.
	UptimeSeconds int64 `json:"uptime_seconds"`
	// Sessions is the number of open sessions.
	Sessions int64 `json:"sessions"`
	// Subscriptions is the number of live subscriptions.
	Subscriptions int64 `json:"subscriptions"`
	// Go is the Go release the server was built with, like "go1.26.0".
	Go string `json:"go"`
}

// SessionInfoResult is the result of SessionInfo.
type SessionInfoResult struct {
	// SessionID is the caller's session id, as in its WELCOME.
	SessionID string `json:"session_id"`
	// RemoteAddr is the caller's address as the server sees it, like
	// "192.0.2.7:51234".
	RemoteAddr string `json:"remote_addr"`
}

// RegisterBuiltins registers the built-in procedures on m under their
// URIs: Ping as ProcPing, Echo as ProcEcho, SessionInfo as
// ProcSessionInfo and, when srv is not nil, ServerInfo(srv) as
// ProcServerInfo. It panics, as Mux.Handle does, if one of them is already
// registered. To mount them under other URIs, register them yourself.
// None of them blocks: each is registered through router.Inline, so their
// calls are answered on the goroutine that read them.
func RegisterBuiltins(m *Mux, srv InfoSource) {
	m.Handle(ProcPing, router.Inline(router.RPCHandlerFunc(Ping)))
	m.Handle(ProcEcho, router.Inline(router.RPCHandlerFunc(Echo)))
	m.Handle(ProcSessionInfo, router.Inline(router.RPCHandlerFunc(SessionInfo)))
	if srv != nil {
		m.Handle(ProcServerInfo, router.Inline(ServerInfo(srv)))
	}
}

// Ping answers "pong", whatever the arguments: a liveness probe.
func Ping(context.Context, *router.Session, *router.Call) (any, error) {
	return "pong", nil
}

// Echo answers its arguments as one JSON list, [] for none, copied out of
// the frame (router.Call.ArgsList: the router does not check them twice).
func Echo(_ context.Context, _ *router.Session, c *router.Call) (any, error) {
	return c.ArgsList(), nil
}

// SessionInfo answers the caller's own session id and address, a
// SessionInfoResult (empty for a nil session).
func SessionInfo(_ context.Context, s *router.Session, _ *router.Call) (any, error) {
	if s == nil {
		return SessionInfoResult{}, nil
	}
	info := SessionInfoResult{SessionID: s.ID()}
	if a := s.RemoteAddr(); a != nil {
		info.RemoteAddr = a.String()
	}
	return info, nil
}

// ServerInfo returns a procedure that answers a ServerInfoResult from
// src's Stats, whatever the arguments.
func ServerInfo(src InfoSource) router.RPCHandlerFunc {
	return func(context.Context, *router.Session, *router.Call) (any, error) {
		st := src.Stats()
		info := ServerInfoResult{
			Server:        "tagwamp/" + router.Version,
			Version:       router.Version,
			Sessions:      st.Sessions,
			Subscriptions: st.Subscriptions,
			Go:            runtime.Version(),
		}
		if !st.Started.IsZero() {
			info.UptimeSeconds = int64(time.Since(st.Started) / time.Second)
		}
		return info, nil
	}
}
