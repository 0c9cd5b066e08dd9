package forward

import "time"

// Observer is told how each forwarded call ended and how long its round
// trip to the service took, for latency histograms (package metrics has
// one over Prometheus). Options.Observer installs it. It is told the
// route's name (Route.Name, or its Prefix: configuration, so bounded),
// never the procedure URI or the session. It runs on the goroutine that
// waited for the service, or on the caller's for a busy call; it must be
// fast and safe for concurrent use.
type Observer interface {
	ObserveCall(route string, outcome Outcome, d time.Duration)
}

// Outcome is how a forwarded call ended (Observer).
type Outcome uint8

// The outcomes of a forwarded call. The duration observed is the HTTP
// round trip: from before the request is sent to the end of its answer's
// body (for OutcomeBusy, no request is sent and it is 0).
const (
	// OutcomeOK: the service answered {"result": ...}, a CALLRESULT.
	OutcomeOK Outcome = iota
	// OutcomeError: the service answered {"error": {...}}, its CALLERROR.
	OutcomeError
	// OutcomeTimeout: no answer within the route's Timeout (or the
	// router's CallTimeout); the call answers ...error#timeout.
	OutcomeTimeout
	// OutcomeUnavailable: no answer to use: the service could not be
	// reached, answered a status other than 2xx, or the request was cut
	// short by Shutdown; the call answers ...error#internal.
	OutcomeUnavailable
	// OutcomeBadAnswer: a 2xx answer that is not a call's answer, or over
	// MaxResponseBytes; the call answers ...error#internal.
	OutcomeBadAnswer
	// OutcomeBusy: no request was sent: MaxInFlight requests were running,
	// or the Forwarder was shutting down; the call answers
	// http://tagwamp.dev/error#busy.
	OutcomeBusy
)

// outcomeNames are the Outcomes' names, in order.
var outcomeNames = [...]string{"ok", "error", "timeout", "unavailable", "bad_answer", "busy"}

// Outcomes lists every Outcome, so that a histogram can make its series
// ahead of the first call.
func Outcomes() []Outcome {
	return []Outcome{OutcomeOK, OutcomeError, OutcomeTimeout, OutcomeUnavailable, OutcomeBadAnswer, OutcomeBusy}
}

// String returns the outcome's name: "ok", "error", "timeout",
// "unavailable", "bad_answer" or "busy".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// observe tells f's Observer, if any, about one call to b.
func (f *Forwarder) observe(b *backend, o Outcome, d time.Duration) {
	if f.observer != nil {
		f.observer.ObserveCall(b.name, o, d)
	}
}
