// Package gen is the load generator of tagwamp-bench: worker processes
// that hold many WebSocket client connections to the server under test and
// play one role each (subscriber, publisher, caller), driven by the
// harness over their standard input and output.
//
// It is built to cost the generator much less than the server: after a
// connection's setup (dial, upgrade, hello, subscriptions: blocking, on a
// bounded set of goroutines) its descriptor is duplicated out of Go's
// network poller into the worker's own epoll instances (level-triggered,
// one goroutine per loop, not per connection, blocking in epoll_wait; the
// sockets read and written with raw system calls), frames are parsed with
// gobwas/ws's low-level header reader straight from a per-loop buffer,
// and a message is classified by its first bytes (package wire); only
// the publisher's timestamp is parsed from events and results. An idle
// connection holds a descriptor and a small struct, nothing else.
//
// The harness side:
//
//	w, ready, err := gen.StartWorker(ctx, exe, spec) // re-execs exe as a worker
//	st, err := w.Do(gen.CmdStart)
//	...
//	w.Close()
//
// A worker answers each command with one JSON line (Stats). Counters are
// cumulative; latency histograms hold what was recorded since the last
// CmdReset. A Worker is not safe for concurrent use.
package gen
