//go:build linux

package wsconn

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// TestFlushPaths flushes one list of many connections, detached and not,
// on both write paths (io_uring and writev): every receiver gets its frames whole and in
// order across flushes, a receiver whose socket is full gets the rest from
// a flusher goroutine, and one whose peer is gone is closed without
// disturbing the others.
func TestFlushPaths(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("io_uring=%v", on), func(t *testing.T) {
			t.Setenv("TAGWAMP_IO_URING", "") // the test chooses
			tr := New(Config{MaxMessageSize: 1 << 20, MaxQueueBytes: 8 << 20, DisableIOUring: !on})
			defer tr.Close()
			const n = 40
			conns := make([]*Conn, n)
			peers := make([]net.Conn, n)
			recs := make([]*recorder, n)
			for i := range n {
				recs[i] = &recorder{}
				if i%2 == 0 { // detached descriptors, held by reference count
					conns[i], peers[i] = socketPair(t, tr, recs[i])
				} else { // descriptors on Go's poller, held through their RawConn
					conns[i], peers[i] = socketPairOnPoller(t, tr, recs[i])
				}
			}
			const gone, slow = 7, 11
			peers[gone].Close()
			if err := syscall.SetsockoptInt(int(conns[slow].fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096); err != nil {
				t.Fatal(err)
			}
			big := bytes.Repeat([]byte("B"), 1<<20)

			want := make([][]byte, n)
			var l Batch
			for round := range 3 {
				for i, c := range conns {
					for k := range 1 + i%3 {
						f := []byte(fmt.Sprintf("[r%d c%d f%d]", round, i, k))
						if i == slow && round == 1 && k == 0 {
							f = big
						}
						c.WriteOn(&l, f)
						want[i] = append(want[i], f...)
					}
				}
				l.Flush()
			}
			for i, p := range peers {
				if i == gone {
					continue
				}
				p.SetReadDeadline(time.Now().Add(30 * time.Second))
				got := make([]byte, len(want[i]))
				if _, err := io.ReadFull(p, got); err != nil {
					t.Fatalf("conn %d: %v", i, err)
				}
				if !bytes.Equal(got, want[i]) {
					t.Fatalf("conn %d: frames out of order or cut", i)
				}
			}
			deadline := time.Now().Add(30 * time.Second)
			for recs[gone].closingCount() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the connection whose peer is gone was not closed")
				}
				time.Sleep(time.Millisecond)
			}
			for i := range n {
				if i != gone && recs[i].closingCount() != 0 {
					t.Errorf("conn %d closed", i)
				}
			}
			tr.rings.mu.Lock()
			made, failed := tr.rings.made, tr.rings.failed
			tr.rings.mu.Unlock()
			if on && made == 0 && !failed {
				t.Error("io_uring on, and no ring made")
			}
			if !on && made != 0 {
				t.Error("io_uring off, and a ring made")
			}
		})
	}
}

func (r *recorder) closingCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closing
}
