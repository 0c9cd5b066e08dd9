package router

import (
	"context"
	"sync"
	"time"
)

// callCtx is the context of one CALL under Options.CallTimeout. It
// allocates only itself and starts no timer: context.WithTimeout starts a
// runtime timer and links itself to its parent on every call
// (BenchmarkDispatch/call-echo-timeout; bench/RESULTS.md, "router:
// dispatch and fan-out"). Most handlers never look at ctx.Done, so the
// timer and the link to the server's context are made only when a handler
// asks for the channel.
//
// The context ends when the deadline passes, when the server shuts down,
// or when the handler returns (finish): like the context of WithTimeout
// after its deferred cancel, it is then done for good, so a goroutine that
// kept it sees it canceled.
type callCtx struct {
	parent   context.Context // the server's context, canceled by Shutdown
	deadline time.Time

	mu      sync.Mutex
	err     error         // set once the context ends
	done    chan struct{} // made by the first Done
	timer   *time.Timer   // started by the first Done
	unwatch func() bool   // stops watching parent; set by the first Done
}

// newCallCtx returns a context that ends at now+timeout.
func newCallCtx(parent context.Context, timeout time.Duration) *callCtx {
	return &callCtx{parent: parent, deadline: time.Now().Add(timeout)}
}

// Deadline returns the call's deadline.
func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// Value looks key up in the server's context.
func (c *callCtx) Value(key any) any { return c.parent.Value(key) }

// Done returns a channel closed when the context ends. The first call
// starts the deadline timer and watches the server's context.
func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err != nil {
		close(c.done)
		return c.done
	}
	c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.end(context.DeadlineExceeded) })
	c.unwatch = context.AfterFunc(c.parent, func() { c.end(context.Cause(c.parent)) })
	return c.done
}

// Err returns nil while the call may go on, then why it may not.
func (c *callCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.parent.Err(); err != nil {
		c.end(err)
		return c.Err()
	}
	if !time.Now().Before(c.deadline) {
		c.end(context.DeadlineExceeded)
		return c.Err()
	}
	return nil
}

// end ends the context with err, once; the first reason stands.
func (c *callCtx) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.unwatch != nil {
		c.unwatch()
	}
}

// finish ends the context when its handler has returned, as a deferred
// cancel ends a context of WithTimeout.
func (c *callCtx) finish() { c.end(context.Canceled) }
