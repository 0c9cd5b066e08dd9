package router

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

func TestCallCtx(t *testing.T) {
	parentOf := func() (context.Context, context.CancelFunc) {
		return context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	}
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		askDone bool                            // call Done before the context ends
		end     func(c *callCtx, cancel func()) // what ends it
		want    error
	}{
		{"deadline, Done asked", 10 * time.Millisecond, true, func(*callCtx, func()) {}, context.DeadlineExceeded},
		{"deadline, only Err", 10 * time.Millisecond, false, func(*callCtx, func()) {}, context.DeadlineExceeded},
		{"shutdown, Done asked", time.Hour, true, func(_ *callCtx, cancel func()) { cancel() }, context.Canceled},
		{"shutdown, only Err", time.Hour, false, func(_ *callCtx, cancel func()) { cancel() }, context.Canceled},
		{"handler returned", time.Hour, true, func(c *callCtx, _ func()) { c.finish() }, context.Canceled},
		{"handler returned, Done after", time.Hour, false, func(c *callCtx, _ func()) { c.finish() }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, cancel := parentOf()
			defer cancel()
			c := newCallCtx(parent, tc.timeout)
			if d, ok := c.Deadline(); !ok || d.IsZero() {
				t.Fatalf("Deadline() = %v, %v", d, ok)
			}
			if got := c.Value(ctxKey{}); got != "v" {
				t.Fatalf("Value = %v, want the parent's", got)
			}
			if err := c.Err(); err != nil {
				t.Fatalf("Err before the end = %v", err)
			}
			var done <-chan struct{}
			if tc.askDone {
				done = c.Done()
				select {
				case <-done:
					t.Fatal("Done closed before the end")
				default:
				}
			}
			tc.end(c, cancel)
			if done == nil {
				// Err alone must notice a passed deadline or a canceled parent.
				for c.Err() == nil {
					time.Sleep(time.Millisecond)
				}
				done = c.Done()
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Done never closed")
			}
			if err := c.Err(); !errors.Is(err, tc.want) {
				t.Fatalf("Err = %v, want %v", err, tc.want)
			}
			c.finish() // idempotent, and the first reason stands
			if err := c.Err(); !errors.Is(err, tc.want) {
				t.Fatalf("after finish, Err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestCallCtxIsContext checks callCtx works with the standard helpers a
// handler would use.
func TestCallCtxIsContext(t *testing.T) {
	c := newCallCtx(context.Background(), 20*time.Millisecond)
	defer c.finish()
	child, cancel := context.WithCancel(c)
	defer cancel()
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a child of the call context did not end at its deadline")
	}
	if !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Fatalf("child Err = %v", child.Err())
	}
}
