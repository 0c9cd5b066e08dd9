package router

import (
	"sync"
	"time"
)

// workerIdle is how long an idle worker waits for a task before it exits,
// so that an idle server holds no worker goroutines.
const workerIdle = 10 * time.Second

// pool runs tasks on at most max goroutines, started on demand (the shape of
// gobwas/ws's gopool). A task is handed to an idle worker when one waits;
// otherwise a new worker starts while fewer than max run; otherwise
// schedule blocks until a worker frees up, which is the back-pressure the
// poller feels.
type pool struct {
	work chan func(*worker)
	sem  chan struct{}
	wg   sync.WaitGroup
}

func newPool(max int) *pool {
	return &pool{
		work: make(chan func(*worker)),
		sem:  make(chan struct{}, max),
	}
}

// schedule runs task on a worker. It may block while all workers are busy.
func (p *pool) schedule(task func(*worker)) {
	select {
	case p.work <- task:
	case p.sem <- struct{}{}:
		p.wg.Add(1)
		go p.run(task)
	}
}

func (p *pool) run(task func(*worker)) {
	defer func() {
		<-p.sem
		p.wg.Done()
	}()
	w := newWorker()
	task(w)
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case task = <-p.work:
			task(w)
			idle.Reset(workerIdle)
		case <-idle.C:
			return
		}
	}
}
