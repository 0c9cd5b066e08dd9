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

	"github.com/tagwamp/tagwamp/router"
)

func TestManySessions(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	srv, url := startServer(t, router.Options{})
	const groups = 50
	clients := make([]*wsClient, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := tryDial(url, "wamp")
			if err != nil {
				t.Error(err)
				return
			}
			c.T = t
			err = c.ReadWelcome(5 * time.Second)
			if err == nil {
				err = c.SendText(fmt.Sprintf(`[5,"http://x.com/room?group=%d"]`, i%groups))
			}
			if err != nil { // off the test goroutine: no t.Fatal
				c.Conn.Close()
				t.Error(err)
				return
			}
			mu.Lock()
			clients[i] = c
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Cleanup(func() {
		for _, c := range clients {
			c.Conn.Close()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for srv.Stats().Subscriptions != int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions, want %d", srv.Stats().Subscriptions, n)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Idle sessions hold no goroutine: what runs is the worker pool (at
	// most 64 per CPU), the poller, flushers and lingering closes of other
	// tests, and the test's own, whatever the number of sessions.
	if g := runtime.NumGoroutine(); !testing.Short() && g > n/4 {
		t.Fatalf("%d goroutines for %d idle sessions", g, n)
	}

	// One publication to everybody, one to a group.
	pub := dial(t, url)
	pub.Send(`[7,"http://x.com/room","all"]`)
	pub.Send(`[7,"http://x.com/room?group=7","g7"]`)
	errs := make(chan error, n)
	for i, c := range clients {
		wg.Go(func() {
			want := []string{fmt.Sprintf(`[8,"http://x.com/room?group=%d","all"]`, i%groups)}
			if i%groups == 7 {
				want = append(want, fmt.Sprintf(`[8,"http://x.com/room?group=%d","g7"]`, i%groups))
			}
			for _, w := range want {
				if m, err := c.Next(20 * time.Second); err != nil || m != w {
					errs <- fmt.Errorf("client %d got %q, %v; want %s", i, m, err, w)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := srv.Stats().Sessions; got != int64(n+1) {
		t.Fatalf("Sessions = %d, want %d", got, n+1)
	}
}

func TestPings(t *testing.T) {
	_, url := startServer(t, router.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 500 * time.Millisecond})
	alive := dial(t, url) // answers pings while it reads
	dead := dial(t, url)  // reads nothing, so answers nothing
	alive.ExpectNothing(1500 * time.Millisecond)
	syncSession(t, alive)
	dead.ExpectClose(1001, "ping timeout")
}

func TestShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(router.Options{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	url := "ws://" + ln.Addr().String() + "/"
	subs := []*wsClient{dial(t, url), dial(t, url), dial(t, url)}
	for _, c := range subs {
		subscribe(t, c, "http://x.com/t")
	}
	const n = 300
	for i := range n {
		if _, err := srv.Publish("http://x.com/t", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; !errors.Is(err, router.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	for _, c := range subs {
		for i := range n {
			if got := c.Recv(); got != fmt.Sprintf(`[8,"http://x.com/t",%d]`, i) {
				t.Fatalf("got %s", got)
			}
		}
		c.ExpectClose(1001, "shutting down")
	}
	if _, err := tryDial(url, "wamp"); err == nil {
		t.Fatal("dial succeeded after Shutdown")
	}
}

func TestHandshakeTimeout(t *testing.T) {
	srv, url := startServer(t, router.Options{HandshakeTimeout: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")) // and then nothing
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	buf := make([]byte, 512)
	for {
		if _, err := conn.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("server kept a silent handshake open")
			}
			break
		}
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Fatalf("closed after %v", waited)
	}
	if srv.Stats().Rejected != 1 {
		t.Fatalf("Rejected = %d", srv.Stats().Rejected)
	}
}

func TestShutdownDuringHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(router.Options{HandshakeTimeout: time.Minute})
	go srv.Serve(ln)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GET / HTTP/1.1\r\n"))
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("Shutdown waited %v for a handshake", time.Since(start))
	}
}
