package router_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestURILength: a URI over MaxURILength costs a CALL a CALLERROR and any
// other message the session (docs/protocol.md#limits).
func TestURILength(t *testing.T) {
	long := "http://x.com/" + strings.Repeat("a", 5000)
	tests := []struct {
		name, msg string
		reply     string // the CALLERROR expected, or "" for a close
	}{
		{"prefix", `[1,"p","` + long + `"]`, ""},
		{"subscribe", `[5,"` + long + `"]`, ""},
		{"unsubscribe", `[6,"` + long + `"]`, ""},
		{"publish", `[7,"` + long + `",1]`, ""},
		{"curie subscribe", `[5,"p:` + strings.Repeat("b", 4000) + `"]`, ""},
		{"call", `[2,"c1","` + long + `"]`, "http://api.wamp.ws/error#invalid-argument"},
		{"curie call", `[2,"c1","p:` + strings.Repeat("b", 4000) + `"]`, "http://api.wamp.ws/error#invalid-argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := startServer(t, router.Options{RPC: testRPC()})
			c := dial(t, url)
			c.Send(`[1,"p","http://x.com/` + strings.Repeat("p", 200) + `#"]`)
			c.Send(tc.msg)
			if tc.reply == "" {
				c.ExpectClose(1002, "over the limit of 4096")
			} else {
				var r []any
				c.RecvJSON(&r)
				if len(r) < 4 || r[0] != float64(4) || r[1] != "c1" || r[2] != tc.reply {
					t.Fatalf("answer %v, want a CALLERROR %s", r, tc.reply)
				}
				syncSession(t, c) // the session goes on
			}
			if n := srv.Stats().URIsTooLong; n != 1 {
				t.Fatalf("URIsTooLong = %d", n)
			}
		})
	}
	t.Run("limit off", func(t *testing.T) {
		_, url := startServer(t, router.Options{RPC: testRPC(), MaxURILength: -1})
		c := dial(t, url)
		c.Send(`[5,"` + long + `"]`)
		syncSession(t, c)
	})
}

// TestCURIEExpansionMemory is the CURIE attack of issue 9 over a real
// socket: a long PREFIX, then many SUBSCRIBEs and CALLs that each expand
// it. With the URI bound the server's heap grows by a few MiB at most,
// where it used to grow by gigabytes.
func TestCURIEExpansionMemory(t *testing.T) {
	_, url := startServer(t, router.Options{RPC: testRPC()})
	before := heapInUse()
	c := dial(t, url)
	c.Send(`[1,"p","http://x.com/` + strings.Repeat("p", 4000) + `#"]`)
	for i := range 1000 {
		c.Send(fmt.Sprintf(`[5,"p:%d"]`, i))
		c.Send(fmt.Sprintf(`[2,"c%d","p:%d"]`, i, i))
	}
	for range 1000 {
		c.Recv() // every CALL is answered (NoSuchRPCEndpoint)
	}
	c.Send(`[1,"q","http://x.com/` + strings.Repeat("q", 600<<10) + `#"]`) // 600 KiB: refused
	c.ExpectClose(1002, "over the limit")
	if grown := int64(heapInUse()) - int64(before); grown > 64<<20 {
		t.Fatalf("heap grew by %d MiB", grown>>20)
	}
}

// TestMessageElements: a message with more JSON values than
// MaxMessageElements closes its session with 1009 before its values are
// kept; a PUBLISH list over MaxPublishIDs with 1002.
func TestMessageElements(t *testing.T) {
	args := func(n int) string { return strings.Repeat(",1", n) }
	ids := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"s%d"`, i)
		}
		return b.String()
	}
	tests := []struct {
		name, msg string
		code      int
		reason    string
	}{
		{"call args over", `[2,"c","http://example.com/null"` + args(5000) + `]`, 1009, "more than 4096 JSON values"},
		{"publish ids over", `[7,"http://x.com/t",1,[` + ids(5000) + `]]`, 1009, "more than 4096 JSON values"},
		{"exclude over", `[7,"http://x.com/t",1,[` + ids(101) + `]]`, 1002, "more than 100 session ids"},
		{"eligible over", `[7,"http://x.com/t",1,[],[` + ids(101) + `]]`, 1002, "more than 100 session ids"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := startServer(t, router.Options{RPC: testRPC(), MaxPublishIDs: 100})
			c := dial(t, url)
			c.Send(tc.msg)
			c.ExpectClose(ws.StatusCode(tc.code), tc.reason)
			if n := srv.Stats().MessagesOverLimit; n != 1 {
				t.Fatalf("MessagesOverLimit = %d", n)
			}
		})
	}
	t.Run("at the limits", func(t *testing.T) {
		_, url := startServer(t, router.Options{RPC: testRPC()})
		c := dial(t, url)
		c.Send(`[7,"http://x.com/t",1,[` + ids(3000) + `],[` + ids(90) + `]]`)
		if r := c.call(`[2,"c","http://example.com/null"` + args(4000) + `]`); r[0] != float64(3) {
			t.Fatalf("answer %v", r)
		}
	})
}

// TestDecoderScratchMemory is the decoder attack of issue 9: sessions that
// each send one CALL of about 1 MiB with hundreds of thousands of
// arguments. Each is closed at the element limit, and no worker keeps
// scratch in proportion to what was sent.
func TestDecoderScratchMemory(t *testing.T) {
	_, url := startServer(t, router.Options{RPC: testRPC()})
	before := heapInUse()
	msg := `[2,"c","http://example.com/null"` + strings.Repeat(",1", 500_000) + `]`
	for range 16 {
		c := dial(t, url)
		c.Send(msg)
		c.ExpectClose(1009, "JSON values")
	}
	if grown := int64(heapInUse()) - int64(before); grown > 32<<20 {
		t.Fatalf("heap grew by %d MiB after 16 large calls", grown>>20)
	}
}

// TestTagsPerTopic: a topic with more tags than MaxTagsPerTopic is dropped
// as malformed, and counted.
func TestTagsPerTopic(t *testing.T) {
	var q strings.Builder
	for i := range 33 {
		fmt.Fprintf(&q, "&k%d=v", i)
	}
	many := "http://x.com/t?" + q.String()[1:]
	srv, url := startServer(t, router.Options{})
	sub := dial(t, url)
	sub.Send(`[5,"` + many + `"]`)
	sub.Send(`[5,"http://x.com/t?k0=v"]`)
	syncSession(t, sub)
	pub := dial(t, url)
	pub.Send(`[7,"` + many + `","dropped"]`)
	pub.Send(`[7,"http://x.com/t?k0=v","control"]`)
	if m := sub.Recv(); m != `[8,"http://x.com/t?k0=v","control"]` {
		t.Fatalf("got %s, want only the control event", m)
	}
	if st := srv.Stats(); st.TopicsOverTagLimit != 2 || st.Subscriptions != 1 {
		t.Fatalf("TopicsOverTagLimit %d, subscriptions %d; want 2, 1", st.TopicsOverTagLimit, st.Subscriptions)
	}
}

// TestLongIDLists: exclude and eligible lists long enough to be looked up
// as sets select the same receivers as short ones.
func TestLongIDLists(t *testing.T) {
	_, url := startServer(t, router.Options{})
	const topic = "http://x.com/ids"
	subs := make([]*wsClient, 12)
	for i := range subs {
		subs[i] = dial(t, url)
		subscribe(t, subs[i], topic)
	}
	quote := func(cs []*wsClient, pad int) string {
		var ids []string
		for _, c := range cs {
			ids = append(ids, `"`+c.SessionID+`"`)
		}
		for i := range pad {
			ids = append(ids, fmt.Sprintf(`"unknown%d"`, i))
		}
		return strings.Join(ids, ",")
	}
	pub := dial(t, url)
	// Exclude the first 6 (and 50 unknown ids); eligible: subscribers 4-11
	// (and 20 unknown ids). Only 6-11 receive.
	pub.Send(`[7,"` + topic + `","e",[` + quote(subs[:6], 50) + `],[` + quote(subs[4:], 20) + `]]`)
	pub.Send(`[7,"` + topic + `","control"]`)
	for i, c := range subs {
		want := `[8,"` + topic + `","control"]`
		if i >= 6 {
			if m := c.Recv(); m != `[8,"`+topic+`","e"]` {
				t.Fatalf("subscriber %d got %s first", i, m)
			}
		}
		if m := c.Recv(); m != want {
			t.Fatalf("subscriber %d got %s, want %s", i, m, want)
		}
	}
}

// TestSlowHandlersDoNotStopReading is issue 9's slow-handler attack: many
// sessions whose calls block in a handler. With a pool of 4 workers, 10
// blocked calls would stop every other session; a worker leaves the pool
// while its handler runs, so other sessions are still read, delivered to
// and answered, and a call over MaxRunningCalls is refused at once.
func TestSlowHandlersDoNotStopReading(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	rpc := router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		if c.URI == "http://x.com/slow" {
			started.Done()
			<-release
		}
		return "ok", nil
	})
	srv, url := startServer(t, router.Options{RPC: rpc, Workers: 4, MaxRunningCalls: 12})
	defer close(release)
	call := func(n int) []*wsClient {
		started.Add(n)
		cs := make([]*wsClient, n)
		for i := range cs {
			cs[i] = dial(t, url)
			cs[i].Send(`[2,"s","http://x.com/slow"]`)
		}
		done := make(chan struct{})
		go func() { started.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second): // a failure guard
			t.Fatal("the slow calls did not all start: the workers are stuck in handlers")
		}
		return cs
	}
	call(10)

	// Other sessions are read and delivered to, and their calls answered.
	sub, pub := dial(t, url), dial(t, url)
	subscribe(t, sub, "http://x.com/t")
	pub.Send(`[7,"http://x.com/t","event"]`)
	if m := sub.Recv(); m != `[8,"http://x.com/t","event"]` {
		t.Fatalf("got %s", m)
	}
	if r := pub.call(`[2,"p","http://x.com/fast"]`); r[2] != "ok" {
		t.Fatalf("unrelated call answered %v", r)
	}

	// Two more slow calls run (12 in all); the next is refused.
	call(2)
	extra := dial(t, url)
	if r := extra.call(`[2,"b","http://x.com/slow"]`); r[0] != float64(4) || r[2] != "http://tagwamp.dev/error#busy" {
		t.Fatalf("call over MaxRunningCalls answered %v", r)
	}
	if n := srv.Stats().CallsBusy; n != 1 {
		t.Fatalf("CallsBusy = %d", n)
	}
}

// TestPartialFramesBounded is issue 9's partial-frame attack: many
// connections that each announce a large frame and send most of it, never
// the end. What they hold together stays under MaxBufferedInput (the
// others are closed with 1008), and a stalled one is closed after
// FrameTimeout.
func TestPartialFramesBounded(t *testing.T) {
	const bound = 4 << 20
	srv, url := startServer(t, router.Options{MaxBufferedInput: bound, FrameTimeout: time.Second})
	before := heapInUse()
	frame := wstest.MaskedFrame(ws.OpText, `[7,"t","`+strings.Repeat("x", 1<<20-20)+`"]`)
	var clients []*wsClient
	for range 40 { // 40 x 1 MiB announced, 40 x 300 KiB sent: 12 MiB
		c := dial(t, url)
		if _, err := c.Conn.Write(frame[:300<<10]); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	waitFor(t, func() bool { return srv.Stats().InputShed > 0 }, "shedding input")
	if st := srv.Stats(); st.BufferedInput > bound {
		t.Fatalf("BufferedInput %d over the bound %d", st.BufferedInput, bound)
	}
	if grown := int64(heapInUse()) - int64(before); grown > 32<<20 {
		t.Fatalf("heap grew by %d MiB for 12 MiB of partial frames under a 4 MiB bound", grown>>20)
	}
	// The rest stall: each is closed after FrameTimeout, and all they held
	// is let go.
	for _, c := range clients {
		m, err := c.Next(10 * time.Second)
		if !errors.Is(err, wstest.ErrClosed) || c.CloseCode != 1008 ||
			m != "incomplete message timed out" && m != "server input buffers are full: retry later" {
			t.Fatalf("closed with %d %q (%v)", c.CloseCode, m, err)
		}
	}
	waitFor(t, func() bool { return srv.Stats().BufferedInput == 0 }, "letting the input go")
	if st := srv.Stats(); st.StalledFrames+st.InputShed != 40 {
		t.Fatalf("stalled %d, shed %d; want 40 in all", st.StalledFrames, st.InputShed)
	}
}

// TestQueuedTotalBounded is issue 9's memory attack on output: many
// subscribers, each with its own topic, that never read. Each queue stays
// under MaxQueueBytes, and together they are shed, the largest first, once
// the total passes MaxQueuedTotal.
func TestQueuedTotalBounded(t *testing.T) {
	const perSession, total = 1 << 20, 4 << 20
	srv, url := startServer(t, router.Options{
		MaxQueueBytes:  perSession,
		MaxQueuedTotal: total,
		WriteTimeout:   time.Minute,
		Filters: []router.HandshakeFilter{router.ConnFilterFunc(func(c net.Conn) error {
			return c.(*net.TCPConn).SetWriteBuffer(4096)
		})},
	})
	const subs = 20
	for i := range subs {
		c := dialSmallWindow(t, url)
		subscribe(t, c, fmt.Sprintf("http://x.com/u?id=%d", i))
	}
	pub := dial(t, url)
	event := `"` + strings.Repeat("e", 16<<10) + `"`
	for range 48 { // 768 KiB to each: under MaxQueueBytes, 15 MiB in all
		pub.Send(`[7,"http://x.com/u",` + event + `]`)
	}
	syncSession(t, pub)
	waitFor(t, func() bool { return srv.Stats().QueueShed > 0 }, "shedding queues")
	waitFor(t, func() bool { return srv.Stats().QueuedBytes <= total }, "queues under the bound")
	if st := srv.Stats(); st.SlowConsumers != 0 {
		t.Fatalf("SlowConsumers = %d: a single queue passed MaxQueueBytes", st.SlowConsumers)
	}
}
