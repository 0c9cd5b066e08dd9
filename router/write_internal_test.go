package router

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// socketSession returns a session whose connection is the server side of a
// real loopback TCP connection, detached from Go's poller as the server's
// are, and the client side. The connection is not started, so it is never
// read; writes work as usual.
func socketSession(t testing.TB, srv *Server, id string) (*Session, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s := &Session{id: id, srv: srv}
	if s.c, err = srv.t.NewConn(nc, (*connHandler)(s)); err != nil {
		t.Fatal(err)
	}
	if err := s.c.DetachFD(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		peer.Close()
		s.c.Abort()
	})
	return s, peer
}

// publishTo delivers one publication of event on topic through the flush
// list of f, as a worker does at the end of a read batch.
func publishTo(t testing.TB, srv *Server, f *fanout, topic string, event []byte) int {
	if err := f.set.ParseTopic([]byte(topic)); err != nil {
		t.Fatal(err)
	}
	f.pub = Publication{Topic: topic, Tags: f.set, Event: event}
	n := srv.deliver(f, &f.pend, nil, nil)
	f.pend.Flush()
	f.pub = Publication{}
	return n
}

// TestFanoutAllocs: queuing a delivery and writing it with the workers'
// non-blocking writev allocates nothing; the one allocation of a
// publication is its EVENT encoding, shared by every receiver.
func TestFanoutAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	srv := New(Options{})
	const receivers = 32
	for i := range receivers {
		s, peer := socketSession(t, srv, fmt.Sprint(i))
		benchSubscribe(t, srv, s, "http://x.com/t?g=1")
		go io.Copy(io.Discard, peer)
	}
	f := srv.fans.Get().(*fanout)
	event := []byte(`{"n":1}`)
	publishTo(t, srv, f, "http://x.com/t?g=1", event) // warm the queues up
	allocs := testing.AllocsPerRun(200, func() {
		if n := publishTo(t, srv, f, "http://x.com/t?g=1", event); n != receivers {
			t.Fatalf("delivered to %d", n)
		}
	})
	if allocs > 1 {
		t.Errorf("a publication to %d receivers allocates %v times, want at most 1 (its encoding)", receivers, allocs)
	}
}

// TestSlowReceiverDoesNotHoldTheFlush: a receiver whose socket is full
// never blocks the goroutine that flushes its list: what the socket does
// not take goes to a flusher goroutine, the other receivers get every
// frame at once, and the slow one, once it reads, gets every frame whole
// and in order.
func TestSlowReceiverDoesNotHoldTheFlush(t *testing.T) {
	srv := New(Options{MaxQueueBytes: 64 << 20, WriteTimeout: time.Minute})
	fast, fastPeer := socketSession(t, srv, "fast")
	slow, slowPeer := socketSession(t, srv, "slow")
	benchSubscribe(t, srv, fast, "http://x.com/t?g=1")
	benchSubscribe(t, srv, slow, "http://x.com/t?g=1")
	got := make(chan []byte, 1)
	const events = 8000
	event := bytes.Repeat([]byte("z"), 2000) // 16 MB in all: more than the kernel buffers
	frameLen := len(encodeEvent("http://x.com/t?g=1", []byte(`"`+string(event)+`"`)))
	go func() {
		b, _ := io.ReadAll(io.LimitReader(fastPeer, int64(events*frameLen)))
		got <- b
	}()

	f := srv.fans.Get().(*fanout)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range events {
			ev := fmt.Appendf(nil, `"%s%06d"`, event[:len(event)-6], i)
			if n := publishTo(t, srv, f, "http://x.com/t?g=1", ev); n != 2 {
				t.Errorf("publication %d delivered to %d", i, n)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a failure guard: the flushes block
		t.Fatal("the flushes wait for a receiver that reads nothing")
	}
	var fastGot []byte
	select {
	case fastGot = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the fast receiver did not get every frame")
	}
	if slow.c.Idle() {
		t.Fatal("the slow receiver's queue was written whole: the test did not fill its socket")
	}
	slowPeer.SetReadDeadline(time.Now().Add(30 * time.Second))
	slowGot, err := io.ReadAll(io.LimitReader(slowPeer, int64(events*frameLen)))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"fast": fastGot, "slow": slowGot} {
		if len(b) != events*frameLen {
			t.Fatalf("%s receiver got %d bytes, want %d", name, len(b), events*frameLen)
		}
		for i := range events {
			fr := b[i*frameLen : (i+1)*frameLen]
			h, err := ws.ReadHeader(bytes.NewReader(fr))
			if err != nil || h.OpCode != ws.OpText || !h.Fin {
				t.Fatalf("%s receiver: frame %d has header %+v, %v", name, i, h, err)
			}
			if want := fmt.Sprintf(`%06d"]`, i); !bytes.HasSuffix(fr, []byte(want)) {
				t.Fatalf("%s receiver: frame %d ends %q, want %q", name, i, fr[len(fr)-8:], want)
			}
		}
	}
	if st := srv.Stats(); st.SlowConsumers != 0 {
		t.Fatalf("SlowConsumers = %d", st.SlowConsumers)
	}
}
