package gen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/bench/internal/wire"
	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

// startRouter serves a real tagwamp router with the built-in procedures
// on a loopback port.
func startRouter(t *testing.T) string {
	t.Helper()
	mux := new(handlers.Mux)
	srv := router.New(router.Options{RPC: mux, PingInterval: -1, CallTimeout: -1})
	handlers.RegisterBuiltins(mux, srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "ws://" + ln.Addr().String()
}

// pipeWorker is a worker served in this process over pipes.
type pipeWorker struct {
	t   *testing.T
	in  *io.PipeWriter
	out *bufio.Reader
	err chan error
}

func serveSpec(t *testing.T, spec Spec) (*pipeWorker, Stats) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	w := &pipeWorker{t: t, in: inW, out: bufio.NewReaderSize(outR, 1<<20), err: make(chan error, 1)}
	go func() {
		err := Serve(context.Background(), inR, outW)
		outW.Close()
		w.err <- err
	}()
	b, _ := json.Marshal(spec)
	fmt.Fprintf(inW, "%s\n", b)
	st := w.read()
	t.Cleanup(func() { w.do(CmdQuit) })
	return w, st
}

func (w *pipeWorker) read() Stats {
	w.t.Helper()
	line, err := w.out.ReadBytes('\n')
	if err != nil {
		w.t.Fatalf("no answer: %v", err)
	}
	var st Stats
	if err := json.Unmarshal(line, &st); err != nil {
		w.t.Fatal(err)
	}
	return st
}

func (w *pipeWorker) do(cmd string) Stats {
	w.t.Helper()
	if _, err := fmt.Fprintln(w.in, cmd); err != nil {
		return Stats{}
	}
	return w.read()
}

// TestPublishSubscribeCall drives a real router with a subscriber, a
// publisher and a caller worker and checks every count: each publication
// reaches the subscribers of its group, each publisher gets its own
// publications back, each call is answered, and latencies are recorded.
func TestPublishSubscribeCall(t *testing.T) {
	url := startRouter(t)
	base := Spec{Server: wire.Tagwamp, URL: url, Loops: 2}
	sub := base
	sub.Role, sub.Count, sub.Topics, sub.Groups = RoleSubscriber, 7, TopicsGroup, 2
	subs, st := serveSpec(t, sub)
	if st.Err != "" || st.Conns != 7 || st.ConnectLatency == nil {
		t.Fatalf("subscribers: %+v", st)
	}
	pub := base
	pub.Role, pub.Count, pub.Groups, pub.Target, pub.Echo, pub.Window, pub.First = RolePublisher, 2, 2, TargetGroup, true, 3, 100
	pubs, st := serveSpec(t, pub)
	if st.Err != "" {
		t.Fatal(st.Err)
	}
	call := base
	call.Role, call.Count, call.Window, call.First = RoleCaller, 2, 4, 200
	callers, _ := serveSpec(t, call)

	pubs.do(CmdStart)
	callers.do(CmdStart)
	for pubs.do(CmdCount).Sent < 200 {
		time.Sleep(5 * time.Millisecond)
	}
	ps := pubs.do(CmdStop)
	cs := callers.do(CmdStop)
	// Subscribers 0, 2, 4, 6 are in group 0, 1, 3, 5 in group 1.
	want := ps.SentGroup[0]*4 + ps.SentGroup[1]*3
	if ps.SentGroup[0]+ps.SentGroup[1] != ps.Sent {
		t.Fatalf("sent %d, by group %v", ps.Sent, ps.SentGroup)
	}
	if st := subs.do(fmt.Sprintf("%s %d 10000", CmdAwait, want)); st.Err != "" || st.Deliveries != want {
		t.Fatalf("subscribers: %d deliveries, want %d (%s)", st.Deliveries, want, st.Err)
	}
	if st := callers.do(fmt.Sprintf("%s %d 10000", CmdAwait, cs.Sent)); st.Err != "" || st.Results != cs.Sent || st.Errors != 0 {
		t.Fatalf("callers: %d results of %d calls, %d errors (%s)", st.Results, cs.Sent, st.Errors, st.Err)
	}
	// Each publisher's window is bounded by its echoes: all came back.
	deadline := time.Now().Add(10 * time.Second)
	for pubs.do(CmdCount).Echoes != ps.Sent {
		if time.Now().After(deadline) {
			t.Fatalf("echoes %d of %d", pubs.do(CmdCount).Echoes, ps.Sent)
		}
		time.Sleep(5 * time.Millisecond)
	}
	st = subs.do(CmdStats)
	if st.Latency == nil || st.Closed != 0 {
		t.Fatalf("subscriber stats %+v", st)
	}
	if n := sumCounts(st.Latency.Counts); n != want {
		t.Fatalf("%d latencies recorded, want %d", n, want)
	}
	subs.do(CmdReset)
	if st := subs.do(CmdStats); sumCounts(st.Latency.Counts) != 0 {
		t.Fatal("reset left latencies")
	}
	if st := callers.do(CmdStats); sumCounts(st.Latency.Counts) != cs.Sent {
		t.Fatalf("call latencies %d, want %d", sumCounts(st.Latency.Counts), cs.Sent)
	}
	// A burst is one publication even while stopped.
	before := subs.do(CmdCount).Deliveries
	bs := pubs.do(CmdBurst)
	if bs.Sent != ps.Sent+1 {
		t.Fatalf("burst sent %d, want 1", bs.Sent-ps.Sent)
	}
	n := int64(3) // the next group in turn
	if bs.SentGroup[0] > ps.SentGroup[0] {
		n = 4
	}
	if st := subs.do(fmt.Sprintf("%s %d 10000", CmdAwait, before+n)); st.Err != "" {
		t.Fatal(st.Err)
	}
}

func sumCounts(c []int64) int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

func TestBadSpecAndCommands(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string
	}{
		{"not json", "x", "gen: worker: spec"},
		{"no count", `{"server":"tagwamp","url":"ws://127.0.0.1:1","role":"subscriber"}`, "count 0 must be positive"},
		{"bad role", `{"server":"tagwamp","url":"ws://127.0.0.1:1","role":"x","count":1}`, `unknown role "x"`},
		{"bad server", `{"server":"x","url":"ws://127.0.0.1:1","role":"caller","count":1}`, `unknown server "x"`},
		{"refused", `{"server":"tagwamp","url":"ws://127.0.0.1:1","role":"caller","count":1}`, "connection 0: gen: dial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := Serve(context.Background(), strings.NewReader(tt.spec+"\n"), &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	url := startRouter(t)
	w, _ := serveSpec(t, Spec{Server: wire.Tagwamp, URL: url, Role: RoleCaller, Count: 1})
	for _, cmd := range []string{"nope", "await 1", "await x 1"} {
		if st := w.do(cmd); st.Err == "" {
			t.Errorf("%q: no error", cmd)
		}
	}
	if st := w.do("await 1 10"); !strings.Contains(st.Err, "0 of 1") {
		t.Errorf("await timeout: %q", st.Err)
	}
}
