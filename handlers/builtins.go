package handlers

import (
	"context"
	"runtime"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// The URIs of the built-in procedures RegisterBuiltins registers; doc.go
// describes their results.
const (
	ProcServerInfo  = "http://tagwamp.dev/procedure#server-info"
	ProcPing        = "http://tagwamp.dev/procedure#ping"
	ProcEcho        = "http://tagwamp.dev/procedure#echo"
	ProcSessionInfo = "http://tagwamp.dev/procedure#session-info"
)

// InfoSource is what the server-info procedure reads; *router.Server
// satisfies it.
type InfoSource interface {
	Stats() router.Stats
}

// ServerInfo is the result of ProcServerInfo.
type ServerInfo struct {
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

// SessionInfo is the result of ProcSessionInfo.
type SessionInfo struct {
	// SessionID is the caller's session id, as in its WELCOME.
	SessionID string `json:"session_id"`
	// RemoteAddr is the caller's address as the server sees it, like
	// "192.0.2.7:51234".
	RemoteAddr string `json:"remote_addr"`
}

// RegisterBuiltins registers the built-in procedures on m: ProcPing,
// ProcEcho, ProcSessionInfo and, when srv is not nil, ProcServerInfo. It
// panics, as Mux.Handle does, if one of them is already registered.
func RegisterBuiltins(m *Mux, srv InfoSource) {
	m.HandleFunc(ProcPing, ping)
	m.HandleFunc(ProcEcho, echo)
	m.HandleFunc(ProcSessionInfo, sessionInfo)
	if srv != nil {
		m.Handle(ProcServerInfo, serverInfo{srv})
	}
}

// ping answers "pong", whatever the arguments: a liveness probe.
func ping(context.Context, *router.Session, *router.Call) (any, error) {
	return "pong", nil
}

// echo answers its arguments as one list, copied out of the frame.
func echo(_ context.Context, _ *router.Session, c *router.Call) (any, error) {
	return joinArgs(c.Args), nil
}

// sessionInfo answers the caller's own session id and address.
func sessionInfo(_ context.Context, s *router.Session, _ *router.Call) (any, error) {
	if s == nil {
		return SessionInfo{}, nil
	}
	info := SessionInfo{SessionID: s.ID()}
	if a := s.RemoteAddr(); a != nil {
		info.RemoteAddr = a.String()
	}
	return info, nil
}

// serverInfo answers ServerInfo from its source's Stats.
type serverInfo struct{ src InfoSource }

func (h serverInfo) ServeCall(context.Context, *router.Session, *router.Call) (any, error) {
	st := h.src.Stats()
	info := ServerInfo{
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
