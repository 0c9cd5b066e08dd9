package wsconn

import (
	"sync"
	"sync/atomic"
	"time"
)

// WorkerIdle is how long an idle worker waits for a task before it exits,
// so that an idle server holds no worker goroutines.
const WorkerIdle = 10 * time.Second

// pool runs tasks on at most max goroutines, started on demand (the shape of
// gobwas/ws's gopool). A task is handed to an idle worker when one waits;
// otherwise a new worker starts while fewer than max run; otherwise
// schedule blocks until a worker frees up, which is the back-pressure the
// poller feels.
type pool struct {
	work      chan task
	sem       chan struct{} // a token per worker that holds a place
	wg        sync.WaitGroup
	newWorker func() *Worker

	// detached counts the workers that gave their place up while they
	// block in application code (Worker.Detach), at most maxDetached.
	detached    atomic.Int64
	maxDetached int64
}

func newPool(max, maxDetached int, newWorker func() *Worker) *pool {
	return &pool{
		work:        make(chan task),
		sem:         make(chan struct{}, max),
		newWorker:   newWorker,
		maxDetached: int64(maxDetached),
	}
}

// task is what the pool runs: a connection's read (Conn.run).
type task interface{ run(w *Worker) }

// schedule runs task on a worker. It may block while all workers are busy.
func (p *pool) schedule(task task) {
	// An idle worker first: a select with both cases ready picks one at
	// random, and would start workers while idle ones wait.
	select {
	case p.work <- task:
		return
	default:
	}
	select {
	case p.work <- task:
	case p.sem <- struct{}{}:
		p.wg.Add(1)
		go p.run(task)
	}
}

// run is a worker goroutine: it runs task, then the tasks handed to it,
// until it has been idle for WorkerIdle, or until it lost its place while
// detached and found none free when it came back (Worker.Reattach).
func (p *pool) run(task task) {
	defer p.wg.Done()
	w := p.newWorker()
	w.pool, w.held = p, true
	task.run(w)
	idle := time.NewTimer(WorkerIdle)
	defer idle.Stop()
	for w.held {
		select {
		case task = <-p.work:
			task.run(w)
			idle.Reset(WorkerIdle)
		case <-idle.C:
			<-p.sem
			return
		}
	}
}

// Detach gives the worker's place in the pool up while the caller blocks
// in application code (an RPC handler), so that a new worker can take it
// and reading and delivery go on; the poller's own goroutine hands the
// waiting for readiness off instead (Handoff). It reports false, and
// changes nothing, when Config.MaxDetached workers are detached already:
// the caller should then not block. Reattach ends it. A worker outside a
// pool (a test's) is never detached and always says true.
func (w *Worker) Detach() bool {
	p := w.pool
	if p == nil || w.detached {
		return true
	}
	if p.detached.Add(1) > p.maxDetached {
		p.detached.Add(-1)
		return false
	}
	w.detached = true
	w.Handoff()
	if w.held {
		w.held, w.gaveUp = false, true
		<-p.sem
	}
	return true
}

// Reattach ends a Detach: a pool worker that gave its place up takes one
// back if one is free; if none is, it finishes its current task and exits.
func (w *Worker) Reattach() {
	p := w.pool
	if p == nil || !w.detached {
		return
	}
	w.detached = false
	p.detached.Add(-1)
	if !w.gaveUp {
		return // the poller's goroutine, or a worker that lost its place before
	}
	w.gaveUp = false
	select {
	case p.sem <- struct{}{}:
		w.held = true
	default:
	}
}

// Handoff makes sure that connections go on being read while the caller
// does something that may take long without blocking in a handler (which
// is what Detach is for): a fan-out to many receivers, a hook that may
// call out. On a pool worker it does nothing; on the goroutine that also
// waits for readiness (the poller's, which reads one ready connection
// itself rather than wake a worker for it) it starts the next waiting
// goroutine first. It costs a goroutine start at most once per event.
func (w *Worker) Handoff() {
	if w.lead != nil {
		w.lead.handoff()
		w.lead = nil
	}
}
