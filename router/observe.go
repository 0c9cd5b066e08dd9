package router

import "time"

// Observer is told how long the router's work took, for latency histograms
// (package metrics has one over Prometheus). Options.Observer installs it;
// without one the router reads no clock for it. Its methods run on the
// router's hot paths, on any goroutine, with no lock of the router held:
// they must be fast, must not block, and must be safe for concurrent use.
// They are told durations and fixed outcomes only, never a URI, a topic or
// a session, so what they record stays bounded.
type Observer interface {
	// ObserveCall is told how long the RPC handler (Options.RPCMiddleware,
	// the Extensions' parts and Options.RPC, as one RPCHandler) ran for
	// one CALL, or one call of CallAsBackend (the HTTP API's /api/call),
	// and how it returned. A call answered without running the handler
	// (busy over MaxRunningCalls, a URI over MaxURILength) is not
	// observed. A deferred call (Call.Defer) is observed when its handler
	// returns, not when its Reply is sent.
	ObserveCall(outcome CallOutcome, d time.Duration)
	// ObserveQueueDelay is told how long frames queued to sessions waited
	// before the write that took them to the socket was done: once per
	// flush of the frames one readiness event (or one server-side
	// publication) queued, the oldest frame's wait from its queuing to the
	// last writev of that flush; and once per write of a session's flusher
	// goroutine (a socket that took less than offered, a TLS session, an
	// answer sent from off the workers), from when it took the previous
	// batch or started. Two clock reads per flush, none per frame.
	ObserveQueueDelay(d time.Duration)
}

// ShardedObserver is an Observer that can give the router's worker
// goroutines Observers of their own, each of a few shards, so that calls
// observed at once on different CPUs do not write the same memory. The
// router asks for one per worker goroutine (Shard) and tells it that
// worker's calls; workers come and go, so a shard serves several over
// time and must still be safe for concurrent use. Package metrics's
// observer is one.
type ShardedObserver interface {
	Observer
	// Shard returns the Observer of one worker goroutine's calls.
	Shard() Observer
}

// CallOutcome is how an RPC handler returned (Observer.ObserveCall).
type CallOutcome uint8

// The outcomes of a call's handler.
const (
	// OutcomeResult: the handler returned a result (a CALLRESULT, unless the
	// result does not marshal).
	OutcomeResult CallOutcome = iota
	// OutcomeError: the handler returned an error or panicked (a CALLERROR).
	OutcomeError
	// OutcomeDeferred: the handler deferred the call (Call.Defer); its Reply
	// answers later.
	OutcomeDeferred
)

// String returns "result", "error" or "deferred".
func (o CallOutcome) String() string {
	switch o {
	case OutcomeResult:
		return "result"
	case OutcomeError:
		return "error"
	case OutcomeDeferred:
		return "deferred"
	}
	return "unknown"
}

// callOutcome is the outcome of a handler that returned err, with reply
// set when it deferred the call.
func callOutcome(err error, reply *Reply) CallOutcome {
	switch {
	case err != nil:
		return OutcomeError
	case reply != nil:
		return OutcomeDeferred
	}
	return OutcomeResult
}

// clock returns the time since the server was made, reading the monotonic
// clock alone (srv.started has a monotonic reading), for Observer.
func (srv *Server) clock() time.Duration { return time.Since(srv.started) }
