package router

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// discardConn is a net.Conn that accepts and drops every write, so the
// benchmarks measure the router rather than the kernel.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (discardConn) Read(p []byte) (int, error)       { select {} }
func (discardConn) SetDeadline(t time.Time) error    { return nil }

// benchSession returns a session on a discarding connection.
func benchSession(srv *Server, id string) *Session {
	return attachSession(srv, id, discardConn{})
}

// attachSession returns a session whose connection writes to nc and is
// never read (wsconn.Transport.Attach).
func attachSession(srv *Server, id string, nc net.Conn) *Session {
	s := &Session{id: id, srv: srv}
	s.c = srv.t.Attach(nc, (*connHandler)(s))
	return s
}

// benchWorker returns the router's scratch of a worker outside the pool.
func benchWorker() *worker { return New(Options{}).newWorker(&wsconn.Worker{}).(*worker) }

// benchSubscribe subscribes s to topic directly in the index.
func benchSubscribe(b testing.TB, srv *Server, s *Session, topic string) {
	tags, err := tagindex.ParseTopic(topic)
	if err != nil {
		b.Fatal(err)
	}
	sub := &subscription{sess: s, topic: topic}
	s.addSub(sub)
	sub.h = srv.index.Add(tags, sub)
}

// benchObserver is a router.Observer as cheap as a histogram's few
// atomic adds, so that the "observed" benchmarks show what the router
// pays for the clock reads and the calls (package metrics's
// BenchmarkHistograms measures Prometheus's own cost).
type benchObserver struct{ n, sum atomic.Int64 }

func (o *benchObserver) ObserveCall(_ CallOutcome, d time.Duration) { o.n.Add(1); o.sum.Add(int64(d)) }
func (o *benchObserver) ObserveQueueDelay(d time.Duration)          { o.n.Add(1); o.sum.Add(int64(d)) }

func BenchmarkDispatch(b *testing.B) {
	echo := RPCHandlerFunc(func(ctx context.Context, s *Session, c *Call) (any, error) {
		return c.Args[0], nil
	})
	srv := New(Options{RPC: echo, CallTimeout: -1})
	timed := New(Options{RPC: echo}) // the default CallTimeout
	observed := New(Options{RPC: echo, CallTimeout: -1, Observer: new(benchObserver)})
	list := New(Options{RPC: Inline(RPCHandlerFunc(func(ctx context.Context, s *Session, c *Call) (any, error) {
		return c.ArgsList(), nil // as handlers.Echo
	})), CallTimeout: -1})
	for _, bc := range []struct {
		name, msg string
		srv       *Server
	}{
		{"publish-no-subscribers", `[7,"http://example.com/news?lang=FR&user=42",{"title":"hello","n":1}]`, srv},
		{"publish-exclude", `[7,"http://example.com/news?lang=FR",{"title":"hello"},["a","b"]]`, srv},
		{"call-echo", `[2,"0.qd4lajti34a","http://example.com/echo",{"n":1}]`, srv},
		{"call-echo-timeout", `[2,"0.qd4lajti34a","http://example.com/echo",{"n":1}]`, timed},
		{"call-echo-observed", `[2,"0.qd4lajti34a","http://example.com/echo",{"n":1}]`, observed},
		{"call-args-list", `[2,"1a2b","http://tagwamp.dev/procedure#echo",{"ts":1764780000123456789,"pub":12,"seq":123456,"p":"xxxxxxxxxxxxxxxx"}]`, list},
		{"call-args-raw", `[2,"1a2b","http://tagwamp.dev/procedure#echo",{"ts":1764780000123456789,"pub":12,"seq":123456,"p":"xxxxxxxxxxxxxxxx"}]`, srv},
		{"subscribe-duplicate", `[5,"http://example.com/news?lang=FR"]`, srv},
	} {
		s := benchSession(bc.srv, "pub")
		w := benchWorker()
		b.Run(bc.name, func(b *testing.B) {
			frame := []byte(bc.msg)
			buf := make([]byte, len(frame))
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				copy(buf, frame)
				if !bc.srv.handleMessage(w, s, buf) {
					b.Fatal("session closed")
				}
				w.batch.Flush()
			}
		})
	}
}

func BenchmarkFanout(b *testing.B) {
	for _, bc := range []struct {
		subs, topics int
		observed     bool
	}{{1000, 1, false}, {10000, 1, false}, {10000, 100, false}, {1000, 1, true}, {10000, 1, true}} {
		name := fmt.Sprintf("subs=%d/topics=%d", bc.subs, bc.topics)
		opts := Options{MaxQueueBytes: 1 << 30}
		if bc.observed {
			name += ",observed"
			opts.Observer = new(benchObserver)
		}
		b.Run(name, func(b *testing.B) {
			srv := New(opts)
			sessions := make([]*Session, bc.subs)
			for i := range sessions {
				sessions[i] = benchSession(srv, fmt.Sprint(i))
				benchSubscribe(b, srv, sessions[i], fmt.Sprintf("http://example.com/room?g=1&v=%d", i%bc.topics))
			}
			f := srv.fans.Get().(*fanout)
			event := []byte(`{"title":"hello","body":"a small event of some forty bytes"}`)
			if err := f.set.ParseTopic([]byte("http://example.com/room?g=1")); err != nil {
				b.Fatal(err)
			}
			f.pub = Publication{Topic: "http://example.com/room?g=1", Tags: f.set, Event: event}
			b.ReportAllocs()
			for b.Loop() {
				if n := srv.deliver(f, &f.pend, nil, nil); n != bc.subs {
					b.Fatalf("delivered %d", n)
				}
				f.pend.Flush()
				b.StopTimer()
				for _, s := range sessions { // let the flushers drain
					for !s.c.Idle() {
						time.Sleep(time.Microsecond)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*bc.subs), "ns/delivery")
		})
	}
}

// BenchmarkDeliverExclude is one publication to 1,000 receivers with an
// exclude list of 4,000 session ids (none of them a receiver's): each
// receiver costs a set lookup, not a scan of the list.
func BenchmarkDeliverExclude(b *testing.B) {
	srv := New(Options{MaxQueueBytes: 1 << 30})
	sessions := make([]*Session, 1000)
	for i := range sessions {
		sessions[i] = benchSession(srv, fmt.Sprint(i))
		benchSubscribe(b, srv, sessions[i], "http://example.com/room?g=1")
	}
	m := &protocol.Publish{Exclude: protocol.ExcludeList}
	for i := range 4000 {
		m.ExcludeIDs = append(m.ExcludeIDs, fmt.Appendf(nil, "other-%d", i))
	}
	f := srv.fans.Get().(*fanout)
	if err := f.set.ParseTopic([]byte("http://example.com/room?g=1")); err != nil {
		b.Fatal(err)
	}
	f.pub = Publication{Topic: "http://example.com/room?g=1", Tags: f.set, Event: []byte(`1`)}
	b.ReportAllocs()
	for b.Loop() {
		if n := srv.deliver(f, &f.pend, nil, m); n != len(sessions) {
			b.Fatalf("delivered %d", n)
		}
		f.pend.Flush()
		b.StopTimer()
		for _, s := range sessions {
			for !s.c.Idle() {
				time.Sleep(time.Microsecond)
			}
		}
		b.StartTimer()
	}
}
