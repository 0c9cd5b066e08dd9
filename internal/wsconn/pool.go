package wsconn

import (
	"sync"
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
	work      chan func(*Worker)
	sem       chan struct{}
	wg        sync.WaitGroup
	newWorker func() *Worker
}

func newPool(max int, newWorker func() *Worker) *pool {
	return &pool{
		work:      make(chan func(*Worker)),
		sem:       make(chan struct{}, max),
		newWorker: newWorker,
	}
}

// schedule runs task on a worker. It may block while all workers are busy.
func (p *pool) schedule(task func(*Worker)) {
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

func (p *pool) run(task func(*Worker)) {
	defer func() {
		<-p.sem
		p.wg.Done()
	}()
	w := p.newWorker()
	task(w)
	idle := time.NewTimer(WorkerIdle)
	defer idle.Stop()
	for {
		select {
		case task = <-p.work:
			task(w)
			idle.Reset(WorkerIdle)
		case <-idle.C:
			return
		}
	}
}
