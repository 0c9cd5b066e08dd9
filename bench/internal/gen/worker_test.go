package gen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
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
	files := spec.Files
	go func() {
		err := serve(context.Background(), inR, outW, func() []*os.File { return files })
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

// TestCompletion drives a real router with subscribers on their own tag
// topics in two workers and publishers with completion-based windows:
// every publication is complete (each subscriber of its group has it),
// none is reported stale, and no publisher ever had more than its window
// incomplete.
func TestCompletion(t *testing.T) {
	tests := []struct {
		name   string
		topics Topics
		window int
		rate   float64
	}{
		{"per-sub window 1", TopicsGroupUser, 1, 0},
		{"shared window 3", TopicsGroup, 3, 0},
		{"per-sub paced", TopicsGroupUser, 2, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startRouter(t)
			const first, npubs = 100, 2
			b, err := NewBoard(first, npubs)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			base := Spec{Server: wire.Tagwamp, URL: url, Loops: 2}
			var subs []*pipeWorker
			for _, part := range []struct{ first, count int }{{0, 4}, {4, 3}} {
				sub := base
				sub.Role, sub.First, sub.Count, sub.Topics, sub.Groups = RoleSubscriber, part.first, part.count, tt.topics, 2
				b.Subscribers(&sub)
				w, st := serveSpec(t, sub)
				if st.Err != "" {
					t.Fatal(st.Err)
				}
				subs = append(subs, w)
			}
			pub := base
			pub.Role, pub.Count, pub.Groups, pub.Target, pub.Window, pub.First, pub.Rate = RolePublisher, npubs, 2, TargetGroup, tt.window, first, tt.rate
			// Subscribers 0, 2, 4, 6 are in group 0, 1, 3, 5 in group 1.
			b.Publishers(&pub, []int64{4, 3})
			pubs, st := serveSpec(t, pub)
			if st.Err != "" {
				t.Fatal(st.Err)
			}
			pubs.do(CmdStart)
			deadline := time.Now().Add(20 * time.Second)
			for pubs.do(CmdCount).Completed < 100 {
				if time.Now().After(deadline) {
					t.Fatalf("completed %d of 100 after 20s", pubs.do(CmdCount).Completed)
				}
				time.Sleep(5 * time.Millisecond)
			}
			ps := pubs.do(CmdStop)
			if ps.Err != "" {
				t.Fatal(ps.Err)
			}
			want := ps.SentGroup[0]*4 + ps.SentGroup[1]*3
			var got, stale int64
			for i, w := range subs {
				n := int64(0)
				if i == 1 {
					// The second worker's subscribers (4, 5, 6): two in group 0, one in group 1.
					n = ps.SentGroup[0]*2 + ps.SentGroup[1]
				} else {
					n = ps.SentGroup[0]*2 + ps.SentGroup[1]*2
				}
				st := w.do(fmt.Sprintf("%s %d 10000", CmdAwait, n))
				if st.Err != "" || st.Deliveries != n {
					t.Fatalf("subscriber worker %d: %d deliveries, want %d (%s)", i, st.Deliveries, n, st.Err)
				}
				got += st.Deliveries
				stale += st.Stale
			}
			if got != want || stale != 0 {
				t.Fatalf("%d deliveries (want %d), %d stale", got, want, stale)
			}
			for pubs.do(CmdCount).Completed != ps.Sent {
				if time.Now().After(deadline) {
					t.Fatalf("completed %d of %d", pubs.do(CmdCount).Completed, ps.Sent)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if st := pubs.do(CmdStats); st.MaxInflight > int64(tt.window) || st.MaxInflight < 1 {
				t.Fatalf("at most %d publications in flight, window %d", st.MaxInflight, tt.window)
			}
		})
	}
}

// TestCompletionStall: a publication that never completes (the board
// expects one receiver more than subscribed) fails the publisher with a
// clear message instead of hanging it.
func TestCompletionStall(t *testing.T) {
	url := startRouter(t)
	b, err := NewBoard(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	sub := Spec{Server: wire.Tagwamp, URL: url, Role: RoleSubscriber, Count: 2, Topics: TopicsGroupUser, Groups: 1}
	b.Subscribers(&sub)
	subs, st := serveSpec(t, sub)
	if st.Err != "" {
		t.Fatal(st.Err)
	}
	pub := Spec{Server: wire.Tagwamp, URL: url, Role: RolePublisher, Count: 1, First: 100, Groups: 1, Target: TargetGroup,
		Window: 1, Stall: Duration(200 * time.Millisecond)}
	b.Publishers(&pub, []int64{3})
	pubs, st := serveSpec(t, pub)
	if st.Err != "" {
		t.Fatal(st.Err)
	}
	pubs.do(CmdStart)
	if st := subs.do(CmdAwait + " 2 10000"); st.Err != "" {
		t.Fatal(st.Err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := pubs.do(CmdCount)
		if strings.Contains(st.Err, "incomplete after 200ms: 1 deliveries missing") {
			break
		}
		if st.Err != "" || time.Now().After(deadline) {
			t.Fatalf("publisher: %q", st.Err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := pubs.do(CmdStop); st.Err == "" || st.Sent != 1 {
		t.Fatalf("stop: sent %d, err %q", st.Sent, st.Err)
	}
}

// TestAppendNextAllocs: encoding a call or a publication allocates
// nothing once a connection's buffers have grown, so that the generator's
// own garbage collection does not take CPU from the server it measures
// (the payload was once a per-call heap array).
func TestAppendNextAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	for _, spec := range []Spec{
		{Server: "tagwamp", Role: RoleCaller, URL: "ws://127.0.0.1:1/", Count: 1, Pad: 16},
		{Server: "tagwamp", Role: RolePublisher, URL: "ws://127.0.0.1:1/", Count: 1, Target: TargetTopic, Topic: "urn:t", Pad: 16},
		{Server: "peer", Role: RoleCaller, URL: "ws://127.0.0.1:1/", Count: 1, Pad: 16},
	} {
		w, err := newWorker(spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := new(conn)
		n := testing.AllocsPerRun(100, func() {
			c.wbuf = c.wbuf[:0]
			w.appendNext(c, time.Now().UnixNano())
		})
		if n != 0 {
			t.Errorf("%s %s: appendNext allocates %v times per message, want 0", spec.Server, spec.Role, n)
		}
	}
}
