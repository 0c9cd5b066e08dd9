package router_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// TestReconnectStorm drops and reconnects thousands of clients at once,
// several times, while a few hundred live subscribers receive a steady
// stream of publications. Every storm client gets its WELCOME back, no live
// session is dropped, and each live session receives every publication in
// order.
func TestReconnectStorm(t *testing.T) {
	live, storm, rounds := 300, 2000, 3
	if testing.Short() {
		live, storm, rounds = 50, 200, 2
	}
	const (
		stream     = "http://x.com/stream?kind=tick"
		stormTopic = stream + "&storm=yes" // reached by the stream too
		batch      = 20                    // publications per acknowledged batch
	)
	srv, url := startServer(t, router.Options{})
	lives := connectAll(t, url, live, func(int) []string { return []string{stream} })
	storms := connectAll(t, url, storm, func(int) []string { return []string{stormTopic} })
	pub := dial(t, url)

	// The live readers check every publication, in order, up to the end
	// marker, and report how many they got.
	type result struct {
		n   int
		err error
	}
	results := make(chan result, live)
	end := fmt.Sprintf(`[8,%q,"end"]`, stream)
	for r, c := range lives {
		go func() {
			for i := 0; ; i++ {
				m, err := c.Next(30 * time.Second)
				if err != nil {
					results <- result{i, fmt.Errorf("live %d after %d events: %v (close %d %q)", r, i, err, c.CloseCode, m)}
					return
				}
				if m == end {
					results <- result{i, nil}
					return
				}
				if want := fmt.Sprintf(`[8,%q,%d]`, stream, i); m != want {
					results <- result{i, fmt.Errorf("live %d: event %d is %s, want %s", r, i, m, want)}
					return
				}
			}
		}()
	}

	// The publisher streams batches, each acknowledged by a CALL (its
	// messages are handled in order), until the storm is over.
	stop := make(chan struct{})
	pubDone := make(chan error, 1)
	var published, duringStorm atomic.Int64
	var storming atomic.Bool
	go func() {
		for n := 0; ; {
			select {
			case <-stop:
				pubDone <- pub.SendText(`[7,"` + stream + `","end"]`)
				return
			default:
			}
			for range batch {
				if err := pub.SendText(fmt.Sprintf(`[7,%q,%d]`, stream, n)); err != nil {
					pubDone <- err
					return
				}
				n++
			}
			if err := pub.ack(fmt.Sprint("batch", n)); err != nil {
				pubDone <- err
				return
			}
			published.Store(int64(n))
			if storming.Load() {
				duringStorm.Add(batch)
			}
		}
	}()

	for round := range rounds {
		// All the storm clients drop their connection (without a close
		// frame) and dial again, at once.
		start := make(chan struct{})
		errs := make(chan error, storm)
		var wg sync.WaitGroup
		for i := range storms {
			wg.Go(func() {
				<-start
				storms[i].Conn.Close()
				c, err := connect(url, stormTopic)
				if err != nil {
					errs <- fmt.Errorf("round %d: storm client %d: %w", round, i, err)
					return
				}
				storms[i] = c
			})
		}
		storming.Store(true)
		close(start)
		wg.Wait()
		storming.Store(false)
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			break
		}
	}
	t.Cleanup(func() {
		for _, c := range storms {
			c.Conn.Close()
		}
	})

	close(stop)
	if err := <-pubDone; err != nil {
		t.Fatalf("publisher: %v", err)
	}
	total := int(published.Load())
	for range live {
		r := <-results
		if r.err != nil {
			t.Error(r.err)
		} else if r.n != total {
			t.Errorf("a live session got %d events, want %d", r.n, total)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// How much of the stream overlapped the storms depends on the machine;
	// it is reported, not asserted.
	t.Logf("%d publications to %d live sessions, %d of them acknowledged while %d clients reconnected, %d rounds",
		total, live, duringStorm.Load(), storm, rounds)

	// The dropped sessions are all gone and nothing else: live, storm and
	// the publisher are still open.
	want := int64(live + storm + 1)
	waitFor(t, func() bool { return srv.Stats().Sessions == want }, fmt.Sprintf("%d sessions", want))
	if got := srv.Stats().Subscriptions; got != int64(live+storm) {
		t.Errorf("Subscriptions = %d, want %d", got, live+storm)
	}
	if st := srv.Stats(); st.SlowConsumers != 0 || st.ProtocolErrors != 0 {
		t.Errorf("SlowConsumers = %d, ProtocolErrors = %d; want 0", st.SlowConsumers, st.ProtocolErrors)
	}
	// And they still answer: a CALL on every live session and on a few
	// reconnected ones.
	for _, c := range append(lives, storms[0], storms[len(storms)-1]) {
		if err := c.ack("alive"); err != nil {
			t.Fatalf("after the storm: %v", err)
		}
	}
}
