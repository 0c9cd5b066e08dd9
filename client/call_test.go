package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/protocol"
)

// answer returns a fake server handler answering each CALL with
// reply(callID, procURI, args), a whole message with %s for the raw call ID.
func answer(reply func(proc string, args []json.RawMessage) string) func(*serverConn, []json.RawMessage) {
	return func(sc *serverConn, msg []json.RawMessage) {
		if string(msg[0]) != "2" {
			return
		}
		var proc string
		json.Unmarshal(msg[2], &proc)
		sc.send(fmt.Sprintf(reply(proc, msg[3:]), msg[1]))
	}
}

func TestCallResult(t *testing.T) {
	type point struct{ X, Y int }
	tests := []struct {
		name   string
		args   []any
		wire   string // the CALL the server must receive
		reply  string
		result any // pointer to decode into, nil for none
		want   any
	}{
		{"no args, number", nil, `[2,"1","http://x/p"]`, `[3,%s,42]`, new(int), 42},
		{"scalars", []any{1, "a", true, nil}, `[2,"1","http://x/p",1,"a",true,null]`, `[3,%s,"ok"]`, new(string), "ok"},
		{"one list arg", []any{[]int{1, 2}}, `[2,"1","http://x/p",[1,2]]`, `[3,%s,[1,2]]`, new([]int), []int{1, 2}},
		{"struct result", []any{point{1, 2}}, `[2,"1","http://x/p",{"X":1,"Y":2}]`, `[3,%s,{"X":3,"Y":4}]`, new(point), point{3, 4}},
		{"raw message passes through", []any{json.RawMessage(`{"b":1,"a":2}`)}, `[2,"1","http://x/p",{"b":1,"a":2}]`, `[3,%s,null]`, new(json.RawMessage), json.RawMessage("null")},
		{"nil raw message is null", []any{json.RawMessage(nil)}, `[2,"1","http://x/p",null]`, `[3,%s,null]`, nil, nil},
		{"result into any", nil, `[2,"1","http://x/p"]`, `[3,%s,{"a":[1,"x"]}]`, new(any), map[string]any{"a": []any{1.0, "x"}}},
		{"result ignored", nil, `[2,"1","http://x/p"]`, `[3,%s,{"a":1}]`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeServer(t, fakeConfig{handle: answer(func(string, []json.RawMessage) string { return tt.reply })})
			c := dial(t, s)
			sc := s.accept(t)
			if err := c.Call(context.Background(), "http://x/p", tt.result, tt.args...); err != nil {
				t.Fatalf("Call: %v", err)
			}
			sc.expect(t, tt.wire)
			if tt.result != nil {
				if got := reflect.ValueOf(tt.result).Elem().Interface(); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("result %#v, want %#v", got, tt.want)
				}
			}
		})
	}
}

func TestCallBadArgs(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	for _, arg := range []any{json.RawMessage(`{`), make(chan int)} {
		if err := c.Call(context.Background(), "http://x/p", nil, arg); err == nil {
			t.Errorf("Call with %T succeeded", arg)
		}
	}
}

func TestCallResultDecodeError(t *testing.T) {
	s := newFakeServer(t, fakeConfig{handle: answer(func(string, []json.RawMessage) string { return `[3,%s,"text"]` })})
	c := dial(t, s)
	var n int
	if err := c.Call(context.Background(), "http://x/p", &n); err == nil {
		t.Error("decoding a string into an int succeeded")
	}
}

func TestCallError(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		want  protocol.Error
	}{
		{"no details", `[4,%s,"http://x/error#oops","it failed"]`, protocol.Error{URI: "http://x/error#oops", Desc: "it failed"}},
		{"details", `[4,%s,"http://x/error#oops","it failed",{"field":"n","max":3}]`,
			protocol.Error{URI: "http://x/error#oops", Desc: "it failed", Details: map[string]any{"field": "n", "max": 3.0}}},
		{"escaped strings", `[4,%s,"http://x/e\u0023","say \"hi\"",[1]]`, protocol.Error{URI: "http://x/e#", Desc: `say "hi"`, Details: []any{1.0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeServer(t, fakeConfig{handle: answer(func(string, []json.RawMessage) string { return tt.reply })})
			c := dial(t, s)
			var result int
			err := c.Call(context.Background(), "http://x/p", &result)
			var perr *protocol.Error
			if !errors.As(err, &perr) {
				t.Fatalf("Call error %v (%T), want *protocol.Error", err, err)
			}
			if !reflect.DeepEqual(*perr, tt.want) {
				t.Errorf("error %#v, want %#v", *perr, tt.want)
			}
			if c.Err() != nil {
				t.Errorf("a CALLERROR ended the connection: %v", c.Err())
			}
		})
	}
}

func TestCallContext(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s)
	sc := s.accept(t)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Call(ctx, "http://x/p", nil); err != context.Canceled {
		t.Errorf("Call with a cancelled context: %v", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, "http://x/slow", nil); err != context.DeadlineExceeded {
		t.Errorf("Call past its deadline: %v, want DeadlineExceeded", err)
	}
	sc.expect(t, `[2,"1","http://x/slow"]`)
	c.mu.RLock()
	n := len(c.pending)
	c.mu.RUnlock()
	if n != 0 {
		t.Errorf("%d pending calls left after cancellation", n)
	}

	// The late reply is dropped; the next call gets its own.
	sc.send(`[3,"1","late"]`)
	done := make(chan error, 1)
	var got string
	go func() { done <- c.Call(context.Background(), "http://x/p", &got) }()
	sc.expect(t, `[2,"2","http://x/p"]`)
	sc.send(`[3,"2","mine"]`)
	if err := <-done; err != nil || got != "mine" {
		t.Errorf("next call: %q, %v; want mine", got, err)
	}
}

func TestCallIDs(t *testing.T) {
	s := newFakeServer(t, fakeConfig{handle: answer(func(string, []json.RawMessage) string { return `[3,%s,true]` })})
	ids := make(chan string, 1)
	c := dial(t, s, WithCallIDs(func() string { return <-ids }))
	sc := s.accept(t)
	for _, id := range []string{"0.qd4lajti34a", `we"ird\id`, "é"} {
		ids <- id
		if err := c.Call(context.Background(), "http://x/p", nil); err != nil {
			t.Errorf("call id %q: %v", id, err)
		}
		sc.expect(t, `[2,`+string(protocol.AppendString(nil, id))+`,"http://x/p"]`)
	}
}

func TestCallDuplicateID(t *testing.T) {
	s := newFakeServer(t, fakeConfig{})
	c := dial(t, s, WithCallIDs(func() string { return "same" }))
	sc := s.accept(t)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- c.Call(ctx, "http://x/p", nil) }()
	sc.expect(t, `[2,"same","http://x/p"]`)
	if err := c.Call(context.Background(), "http://x/p", nil); !errors.Is(err, ErrDuplicateCallID) {
		t.Errorf("second call: %v, want ErrDuplicateCallID", err)
	}
	cancel()
	<-first
}

func TestCallConcurrent(t *testing.T) {
	const n = 100
	// The server answers every call after a random delay, so replies come
	// back in another order than the calls went out.
	s := newFakeServer(t, fakeConfig{handle: func(sc *serverConn, msg []json.RawMessage) {
		sc.sendLater(time.Duration(rand.IntN(20))*time.Millisecond, fmt.Sprintf(`[3,%s,%s]`, msg[1], msg[3]))
	}})
	c := dial(t, s)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			var got int
			if err := c.Call(context.Background(), "http://x/echo", &got, i); err != nil {
				errs <- err
				return
			}
			if got != i {
				errs <- fmt.Errorf("call %d got %d", i, got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
