package router_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// TestSlowConsumer subscribes a thousand clients that keep up and one that
// never reads to one tag topic, and publishes four times MaxQueueBytes to
// them. The thousand receive every event in order; the slow one's queue
// never passes MaxQueueBytes, it is closed with 1008 and a reason, and it is
// counted once. Nobody waits for it.
func TestSlowConsumer(t *testing.T) {
	readers := 1000
	if testing.Short() {
		readers = 100
	}
	const (
		maxQueue  = 32 << 10
		eventSize = 1 << 10
		batch     = 8  // events per batch: a quarter of maxQueue
		batches   = 16 // 128 KiB in all, four times maxQueue
		events    = batch * batches
		lobby     = "http://x.com/feed?room=lobby"
		slowTopic = lobby + "&user=slow" // reached by every publication to lobby
	)
	// WriteTimeout is long so that the write the slow consumer blocks is
	// still there when it finally reads: the test needs no timing to see
	// the close frame.
	//
	// The kernel's send buffers are fixed small (Linux would grow them to
	// megabytes), and so is the slow one's receive buffer, so that what it
	// does not read stays in the server's queue, where the test can see it.
	srv, url := startServer(t, router.Options{
		MaxQueueBytes: maxQueue,
		WriteTimeout:  time.Minute,
		Filters: []router.HandshakeFilter{router.ConnFilterFunc(func(c net.Conn) error {
			return c.(*net.TCPConn).SetWriteBuffer(4096)
		})},
	})
	start := time.Now()

	slow := dialSmallWindow(t, url)
	subscribe(t, slow, slowTopic)

	clients := connectAll(t, url, readers, func(int) []string { return []string{lobby} })
	pub := dial(t, url)
	t.Logf("connected in %v", time.Since(start))

	payload := make([]string, events)
	for i := range payload {
		p := fmt.Sprintf(`{"seq":%d,"pad":"`, i)
		payload[i] = p + strings.Repeat("z", eventSize-len(p)-2) + `"}`
	}

	// Each reader acknowledges each batch, and the publisher waits for all
	// of them before the next: a reader's queue never holds more than one
	// batch, so only the one that never reads can fill its queue.
	acks := make([]sync.WaitGroup, batches)
	for b := range acks {
		acks[b].Add(readers)
	}
	errs := make(chan error, readers)
	var wg sync.WaitGroup
	for r, c := range clients {
		wg.Go(func() {
			b := 0
			defer func() {
				for ; b < batches; b++ {
					acks[b].Done()
				}
			}()
			for ; b < batches; b++ {
				for k := range batch {
					i := b*batch + k
					m, err := c.Next(30 * time.Second)
					if want := fmt.Sprintf(`[8,%q,%s]`, lobby, payload[i]); err != nil || m != want {
						errs <- fmt.Errorf("reader %d, event %d: got %.60q, %v (close %d)", r, i, m, err, c.CloseCode)
						return
					}
				}
				acks[b].Done()
			}
		})
	}

	var maxTotal, maxOne int
	for b := range batches {
		for k := range batch {
			pub.Send(fmt.Sprintf(`[7,%q,%s]`, lobby, payload[b*batch+k]))
		}
		// The publisher's messages are handled in order: once the CALL is
		// answered, the batch is in every receiver's queue.
		syncSession(t, pub)
		total, one := srv.QueuedBytes()
		maxTotal, maxOne = max(maxTotal, total), max(maxOne, one)
		acks[b].Wait()
	}
	wg.Wait()
	t.Logf("published in %v", time.Since(start))
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Memory: no session's queue ever held more than MaxQueueBytes (the
	// slow one was sent four times that), and all of them together stayed
	// within MaxQueueBytes per session.
	sessions := readers + 2
	t.Logf("largest queue %d B, largest total %d B (bound %d B per session, %d sessions)", maxOne, maxTotal, maxQueue, sessions)
	if maxOne > maxQueue {
		t.Errorf("a queue held %d bytes, over MaxQueueBytes %d", maxOne, maxQueue)
	}
	if maxTotal > sessions*maxQueue {
		t.Errorf("queues held %d bytes in all, over %d sessions x MaxQueueBytes", maxTotal, sessions)
	}
	if got := srv.Stats().SlowConsumers; got != 1 {
		t.Fatalf("SlowConsumers = %d, want 1", got)
	}

	// The slow one reads at last: what was written before its queue
	// overflowed (a prefix of the stream, in order, with no gap), then the
	// close frame.
	n := 0
	for {
		m, err := slow.Next(10 * time.Second)
		if errors.Is(err, wstest.ErrClosed) {
			if slow.CloseCode != 1008 || m != "slow consumer: send queue over its limit" {
				t.Fatalf("slow consumer closed with %d %q, want 1008 %q", slow.CloseCode, m, "slow consumer: send queue over its limit")
			}
			break
		}
		if err != nil {
			t.Fatalf("slow consumer, after %d events: %v, want a close frame", n, err)
		}
		if want := fmt.Sprintf(`[8,%q,%s]`, slowTopic, payload[n]); m != want {
			t.Fatalf("slow consumer, event %d: got %.60q", n, m)
		}
		n++
	}
	t.Logf("the slow consumer got %d of %d events before its close frame", n, events)
	if n >= events {
		t.Fatalf("the slow consumer got all %d events: its queue never overflowed", n)
	}
	slow.Conn.Close()

	// The readers and the publisher are all still there.
	waitFor(t, func() bool { return srv.Stats().Sessions == int64(readers+1) }, "sessions == readers + publisher")
	if total, _ := srv.QueuedBytes(); total != 0 {
		t.Errorf("%d bytes still queued", total)
	}
}

// dialSmallWindow is dial with a receive buffer of 4 KiB, set before the
// connection is made so that the window the client announces matches it
// (shrinking the buffer of an open connection makes the kernel drop what
// it had let the peer send, and the peer's retransmissions back off).
func dialSmallWindow(t *testing.T, url string) *wsClient {
	t.Helper()
	return &wsClient{wstest.Dial(t, url, wstest.Options{RcvBuf: 4096})}
}

// connectAll connects n clients, client i subscribed to topics(i), from
// a few goroutines at a time; it fails the test if any cannot.
func connectAll(t *testing.T, url string, n int, topics func(i int) []string) []*wsClient {
	t.Helper()
	clients := make([]*wsClient, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := connect(url, topics(i)...)
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			c.T = t
			clients[i] = c
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range clients {
			if c != nil {
				c.Conn.Close()
			}
		}
	})
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return clients
}

// waitFor waits for an asynchronous effect (a socket the server closes on
// its own time); the deadline only guards against a hang.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 20s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
