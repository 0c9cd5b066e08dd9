package wsconn

import (
	"testing"
	"time"
)

// TestDetach: a worker blocked in a task it detached from gives its place
// to another; past maxDetached, Detach says no; a worker that finds no
// place when it reattaches exits after its task.
func TestDetach(t *testing.T) {
	p := newPool(1, 1, func() *Worker { return new(Worker) })
	block, blocked, ran := make(chan struct{}), make(chan bool, 1), make(chan bool, 2)
	p.schedule(taskFunc(func(w *Worker) {
		blocked <- w.Detach()
		<-block
		w.Reattach()
	}))
	if !<-blocked {
		t.Fatal("Detach refused under maxDetached")
	}
	// The one place is free again: another task runs while the first blocks.
	p.schedule(taskFunc(func(w *Worker) { ran <- w.Detach() })) // over maxDetached: refused
	select {
	case ok := <-ran:
		if ok {
			t.Fatal("Detach granted over maxDetached")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a task did not run while the only worker was detached")
	}
	close(block) // the first worker comes back: no place is free, it exits
	deadline := time.Now().Add(10 * time.Second)
	for p.detached.Load() != 0 || len(p.sem) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("detached %d, places taken %d", p.detached.Load(), len(p.sem))
		}
		time.Sleep(time.Millisecond)
	}
}

// taskFunc makes a function a pool task.
type taskFunc func(*Worker)

func (f taskFunc) run(w *Worker) { f(w) }
