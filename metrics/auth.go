package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tagwamp/tagwamp/auth"
)

// AuthSource is what the AuthCollector reads; *auth.Auth is one.
type AuthSource interface {
	Stats() auth.Stats
}

// AuthCollector is a prometheus.Collector over an AuthSource: package
// auth's refusals and denials.
type AuthCollector struct{ snapshots[auth.Stats] }

// NewAuthCollector returns an AuthCollector of src's counters, named
// tagwamp_auth_*.
func NewAuthCollector(src AuthSource) *AuthCollector {
	m, c := newMetric[auth.Stats], prometheus.CounterValue
	return &AuthCollector{snapshots[auth.Stats]{read: src.Stats, metrics: []metric[auth.Stats]{
		m("auth_connections_refused_total", "Upgrades refused with 401 for missing or wrong credentials.", c, func(s *auth.Stats) float64 { return float64(s.RefusedConnections) }),
		m("auth_calls_denied_total", "CALLs answered not-authorized.", c, func(s *auth.Stats) float64 { return float64(s.DeniedCalls) }),
		m("auth_subscribes_denied_total", "SUBSCRIBEs dropped for want of permission.", c, func(s *auth.Stats) float64 { return float64(s.DeniedSubscribes) }),
		m("auth_publishes_denied_total", "PUBLISHes dropped for want of permission.", c, func(s *auth.Stats) float64 { return float64(s.DeniedPublishes) }),
		m("auth_cra_failures_total", "Wrong WAMP-CRA signatures.", c, func(s *auth.Stats) float64 { return float64(s.FailedCRA) }),
		m("auth_timeouts_total", "Sessions closed for not authenticating within auth_timeout.", c, func(s *auth.Stats) float64 { return float64(s.AuthTimeouts) }),
		m("auth_challenges_rate_limited_total", "WAMP-CRA challenges (authreq) refused over challenge_rate.", c, func(s *auth.Stats) float64 { return float64(s.RateLimitedChallenges) }),
	}}}
}
