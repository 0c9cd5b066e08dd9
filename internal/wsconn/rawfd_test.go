package wsconn

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestDetachedAndOnPoller runs a connection's life on both kinds of
// descriptor: detached from Go's poller (DetachFD, as the server's are)
// and left on it (a connection DetachFD does not apply to): a message
// read, frames written, a write larger than the socket buffers (which
// waits, under WriteTimeout, while the peer reads slowly) arriving whole
// and in order, and the close handshake.
func TestDetachedAndOnPoller(t *testing.T) {
	tests := []struct {
		name string
		pair func(testing.TB, *Transport, Handler) (*Conn, net.Conn)
	}{
		{"detached", socketPair},
		{"on Go's poller", socketPairOnPoller},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New(Config{MaxMessageSize: 1 << 20, MaxQueueBytes: 64 << 20, WriteTimeout: time.Minute})
			rec := &recorder{}
			c, peer := tt.pair(t, tr, rec)
			if _, err := peer.Write(clientFrame(ws.OpText, true, []byte("hello"))); err != nil {
				t.Fatal(err)
			}
			if !serve(c, tr.newWorker()) {
				t.Fatal("closed after a text frame")
			}
			if got := rec.messages(); len(got) != 1 || got[0] != "1:hello" {
				t.Fatalf("messages %q", got)
			}

			// More than the socket buffers hold: the flusher waits.
			big := bytes.Repeat([]byte("y"), 60_000)
			var want bytes.Buffer
			for i := range 100 {
				f := AppendControl(nil, ws.OpPing, []byte{byte(i)})
				want.Write(f)
				if !c.Write(f) {
					t.Fatal("write refused")
				}
				buf, off := BeginFrame(nil)
				buf = append(buf, big...)
				f = EndFrame(buf, off, ws.OpText)
				want.Write(f)
				if !c.Write(f) {
					t.Fatal("write refused")
				}
			}
			got := make([]byte, want.Len())
			peer.SetReadDeadline(time.Now().Add(30 * time.Second))
			for off := 0; off < len(got); {
				n, err := peer.Read(got[off:min(off+4096, len(got))])
				if err != nil {
					t.Fatalf("after %d of %d bytes: %v", off, len(got), err)
				}
				off += n
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatal("the frames arrived changed or out of order")
			}

			c.Close(ws.StatusNormalClosure, "bye")
			f, err := readFrame(peer)
			if err != nil || f.Header.OpCode != ws.OpClose {
				t.Fatalf("close frame: %+v %v", f.Header, err)
			}
			peer.Write(clientFrame(ws.OpClose, true, f.Payload))
			// The server half-closes, then closes once the peer has.
			if _, err := io.Copy(io.Discard, peer); err != nil {
				t.Fatalf("after the close frame: %v", err)
			}
			peer.Close()
			deadline := time.Now().Add(10 * time.Second)
			for {
				rec.mu.Lock()
				closed := rec.closed
				rec.mu.Unlock()
				if closed == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("ConnClosed ran %d times", closed)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}
