package wsconn

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// recorder is a Handler that records what it is given.
type recorder struct {
	mu      sync.Mutex
	msgs    []string
	closing int
	closed  int
}

func (r *recorder) HandleMessage(w *Worker, op ws.OpCode, p []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf("%v:%s", op, p))
	return true
}

func (r *recorder) ConnClosing() { r.mu.Lock(); r.closing++; r.mu.Unlock() }
func (r *recorder) ConnClosed()  { r.mu.Lock(); r.closed++; r.mu.Unlock() }

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// socketPair returns a Conn of t over one end of a Unix socket pair,
// detached from Go's poller as a server's connections are, and the other
// end, with which a test plays the client.
func socketPair(t testing.TB, tr *Transport, h Handler) (*Conn, net.Conn) {
	c, peer := socketPairOnPoller(t, tr, h)
	if err := c.DetachFD(); err != nil {
		t.Fatal(err)
	}
	return c, peer
}

// socketPairOnPoller is socketPair without the Detach: the Conn reads and
// writes through its net.Conn's descriptor, on Go's poller.
func socketPairOnPoller(t testing.TB, tr *Transport, h Handler) (*Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		nc, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return nc
	}
	srvSide, peer := conn(fds[0]), conn(fds[1])
	c, err := tr.NewConn(srvSide, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Abort(); peer.Close() })
	return c, peer
}

// clientFrame is a masked client frame.
func clientFrame(op ws.OpCode, fin bool, p []byte) []byte {
	var b bytes.Buffer
	f := ws.NewFrame(op, fin, append([]byte(nil), p...))
	ws.WriteFrame(&b, ws.MaskFrameInPlace(f))
	return b.Bytes()
}

// serve reads what c's socket holds, as a worker woken by the poller
// would, without the poller.
func serve(c *Conn, w *Worker) (open bool) {
	ok, _ := c.readAvailable(w)
	w.Batch.Flush()
	if ok {
		c.releasePart()
	}
	return ok
}

func newTestTransport(maxMsg int) *Transport {
	return New(Config{MaxMessageSize: maxMsg, MaxQueueBytes: 1 << 20})
}

// TestReadPath sends frames of many sizes, whole and cut into pieces, and
// checks each message arrives once and intact, and that between reads the
// connection keeps only what an incomplete frame has delivered so far.
func TestReadPath(t *testing.T) {
	for _, size := range []int{0, 1, 125, 126, 4000, 4096, 5000, ReadBufferSize - 14, ReadBufferSize + 1, 3 * ReadBufferSize, 1 << 20} {
		for _, piece := range []int{1 << 30, 7, 1000, 65536} {
			if piece == 7 && size > 5000 {
				continue // too slow, and covered by 1000
			}
			t.Run(fmt.Sprintf("size=%d/piece=%d", size, piece), func(t *testing.T) {
				tr := newTestTransport(1 << 20)
				rec := &recorder{}
				c, peer := socketPair(t, tr, rec)
				w := tr.newWorker()
				payload := bytes.Repeat([]byte("x"), size)
				frame := clientFrame(ws.OpText, true, payload)
				frame = append(frame, clientFrame(ws.OpText, true, []byte("next"))...)
				piece := min(piece, 128<<10) // what a socket buffer takes at once
				for off := 0; off < len(frame); off += piece {
					end := min(off+piece, len(frame))
					if _, err := peer.Write(frame[off:end]); err != nil {
						t.Fatal(err)
					}
					if !serve(c, w) {
						t.Fatal("connection closed")
					}
					if got := len(c.part); end < len(frame) && got > end {
						t.Fatalf("after %d bytes the connection holds %d", end, got)
					}
					if cap(c.part) > max(4*len(c.part), bufSize, largeFrameStep) {
						t.Fatalf("partial frame of %d bytes holds a buffer of %d", len(c.part), cap(c.part))
					}
				}
				msgs := rec.messages()
				if len(msgs) != 2 || msgs[0] != "1:"+string(payload) || msgs[1] != "1:next" {
					t.Fatalf("got %d messages (%.40q)", len(msgs), msgs)
				}
				if len(c.part) != 0 || c.need != 0 {
					t.Fatalf("an idle connection holds %d bytes (need %d)", len(c.part), c.need)
				}
			})
		}
	}
}

// TestLargeFrameGrowsWithBytes: a header announcing a large frame costs
// memory only as its bytes arrive.
func TestLargeFrameGrowsWithBytes(t *testing.T) {
	tr := newTestTransport(1 << 20)
	c, peer := socketPair(t, tr, &recorder{})
	w := tr.newWorker()
	frame := clientFrame(ws.OpText, true, bytes.Repeat([]byte("y"), 1<<20))
	peer.Write(frame[:100])
	serve(c, w)
	if int(c.need) != len(frame) || cap(c.part) > largeFrameStep {
		t.Fatalf("after 100 bytes of a 1 MiB frame: need %d, buffer %d", c.need, cap(c.part))
	}
}

func TestFrameChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames []byte
		code   ws.StatusCode
		reason string
	}{
		{"unmasked", []byte{0x81, 0x01, 'x'}, 1002, "masked"},
		{"reserved bits", clientFrameRsv(), 1002, "reserved bits"},
		{"reserved opcode", clientFrame(ws.OpCode(3), true, nil), 1002, "reserved opcode"},
		{"long ping", clientFrame(ws.OpPing, true, make([]byte, 126)), 1002, "control frames"},
		{"fragmented ping", clientFrame(ws.OpPing, false, nil), 1002, "control frames"},
		{"continuation alone", clientFrame(ws.OpContinuation, true, nil), 1002, "continuation frame without"},
		{"text inside fragments", append(clientFrame(ws.OpText, false, nil), clientFrame(ws.OpText, true, nil)...), 1002, "data frame inside"},
		{"too big", clientFrame(ws.OpText, true, make([]byte, 200)), 1009, "too big"},
		{"fragments too big", append(clientFrame(ws.OpText, false, make([]byte, 60)), clientFrame(ws.OpContinuation, true, make([]byte, 60))...), 1009, "too big"},
		{"binary refused", clientFrame(ws.OpBinary, true, []byte("b")), 1003, "binary"},
		{"bad close code", clientFrame(ws.OpClose, true, []byte{0x03, 0xec}), 1002, "invalid close code"}, // 1004
		{"close code 5000", clientFrame(ws.OpClose, true, []byte{0x13, 0x88}), 1002, "invalid close code"},
		{"close reason not UTF-8", clientFrame(ws.OpClose, true, []byte{0x03, 0xe8, 0xff}), 1007, "UTF-8"},
		{"one-byte close", clientFrame(ws.OpClose, true, []byte{0x03}), 1002, "one-byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := New(Config{MaxMessageSize: 100, MaxQueueBytes: 1 << 20, RefuseBinary: "binary frames are not supported"})
			c, peer := socketPair(t, tr, &recorder{})
			peer.Write(tc.frames)
			if serve(c, tr.newWorker()) {
				t.Fatal("connection still open")
			}
			peer.SetReadDeadline(time.Now().Add(5 * time.Second))
			f, err := readFrame(peer)
			if err != nil || f.Header.OpCode != ws.OpClose || len(f.Payload) < 2 {
				t.Fatalf("no close frame: %+v %v", f.Header, err)
			}
			code := ws.StatusCode(uint16(f.Payload[0])<<8 | uint16(f.Payload[1]))
			if code != tc.code || !strings.Contains(string(f.Payload[2:]), tc.reason) {
				t.Fatalf("closed with %d %q, want %d %q", code, f.Payload[2:], tc.code, tc.reason)
			}
		})
	}
}

func clientFrameRsv() []byte {
	b := clientFrame(ws.OpText, true, []byte("x"))
	b[0] |= 0x40
	return b
}

// TestCloseHandshake: a valid close frame is answered with the same code,
// and the handler learns of the end once.
func TestCloseHandshake(t *testing.T) {
	tr := newTestTransport(100)
	rec := &recorder{}
	c, peer := socketPair(t, tr, rec)
	peer.Write(clientFrame(ws.OpClose, true, []byte{0x0f, 0xa0, 'b', 'y', 'e'})) // 4000
	if serve(c, tr.newWorker()) {
		t.Fatal("still open after a close frame")
	}
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	f, err := readFrame(peer)
	if err != nil || f.Header.OpCode != ws.OpClose || f.Payload[0] != 0x0f || f.Payload[1] != 0xa0 {
		t.Fatalf("answer %+v %x %v", f.Header, f.Payload, err)
	}
	peer.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec.mu.Lock()
		closing, closed := rec.closing, rec.closed
		rec.mu.Unlock()
		if closed == 1 && closing == 1 {
			break
		}
		if time.Now().After(deadline) || closed > 1 || closing > 1 {
			t.Fatalf("ConnClosing %d times, ConnClosed %d times", closing, closed)
		}
		time.Sleep(time.Millisecond)
	}
}

// timeoutConn fails every write with a timeout, like a peer that has taken
// nothing for WriteTimeout.
type timeoutConn struct{ net.Conn }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func (timeoutConn) Write([]byte) (int, error)        { return 0, timeoutErr{} }
func (timeoutConn) Close() error                     { return nil }
func (timeoutConn) SetWriteDeadline(time.Time) error { return nil }
func (timeoutConn) SetReadDeadline(time.Time) error  { return nil }

var _ net.Error = timeoutErr{}

func TestWriteTimeoutIsOneSlowConsumer(t *testing.T) {
	tr := New(Config{MaxMessageSize: 100, MaxQueueBytes: 64})
	c := tr.Attach(timeoutConn{}, &recorder{})
	if !c.Write([]byte("first frame")) {
		t.Fatal("first write refused")
	}
	deadline := time.Now().Add(5 * time.Second)
	for tr.Stats().SlowConsumers != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("SlowConsumers = %d after a write timeout", tr.Stats().SlowConsumers)
		}
		time.Sleep(time.Millisecond)
	}
	// The same connection passing its queue bound is not counted again.
	c.markSlow("send queue over its limit")
	if got := tr.Stats().SlowConsumers; got != 1 {
		t.Fatalf("SlowConsumers = %d, want 1", got)
	}
	if c.Write([]byte("after")) {
		t.Fatal("a closed connection took a frame")
	}
}

// TestReadNotificationWhileReading: a second notification for a connection
// that a worker is serving does nothing (the serving worker re-arms).
func TestReadNotificationWhileReading(t *testing.T) {
	tr := newTestTransport(100)
	c := &Conn{t: tr} // no socket: any read would panic
	c.reading.Store(true)
	c.onReadable(tr.newWorker())
	if !c.reading.Load() || c.part != nil {
		t.Fatal("a duplicate notification touched the read state")
	}
}

// FuzzFrames feeds arbitrary bytes to the frame reader, once whole and
// once cut into reads of 1 to 17 bytes (the first input byte picks the
// size). It must never panic, keep its buffer within the frame's length,
// and hand over the same messages and reach the same end either way.
func FuzzFrames(f *testing.F) {
	f.Add([]byte("\x03" + string(clientFrame(ws.OpText, true, []byte(`[5,"t"]`)))))
	f.Add([]byte("\x01" + string(clientFrame(ws.OpText, false, []byte("a"))) + string(clientFrame(ws.OpPing, true, nil)) + string(clientFrame(ws.OpContinuation, true, []byte("b")))))
	f.Add([]byte("\x05" + string(clientFrame(ws.OpClose, true, []byte{0x03, 0xe8}))))
	const maxMsg = 4096
	run := func(t *testing.T, data []byte, chunk int) ([]string, bool) {
		tr := New(Config{MaxMessageSize: maxMsg, MaxQueueBytes: 1 << 20, RefuseBinary: "binary"})
		t.Cleanup(func() { tr.Close() }) // its epoll descriptor: the fuzzer runs thousands
		rec := &recorder{}
		c, peer := socketPair(t, tr, rec)
		w := tr.newWorker()
		open := true
		for len(data) > 0 && open {
			n := min(len(data), chunk)
			if _, err := peer.Write(data[:n]); err != nil {
				t.Fatal(err)
			}
			data = data[n:]
			open = serve(c, w)
			if len(c.part) > maxMsg+14 || cap(c.part) > max(bufSize, maxMsg+14) {
				t.Fatalf("partial frame: %d of %d bytes", len(c.part), cap(c.part))
			}
		}
		if open != !c.Closing() {
			t.Fatalf("read said open=%v, Closing() says %v", open, c.Closing())
		}
		return rec.messages(), open
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 64<<10 {
			return
		}
		chunk := 1 + int(data[0])%17
		whole, openWhole := run(t, data[1:], len(data))
		split, openSplit := run(t, data[1:], chunk)
		if fmt.Sprint(whole) != fmt.Sprint(split) || openWhole != openSplit {
			t.Fatalf("whole: %.80q open=%v; in %d-byte reads: %.80q open=%v", whole, openWhole, chunk, split, openSplit)
		}
	})
}

// stuckConn times the first write out, like a peer that took nothing for
// WriteTimeout, and records the writes after it.
type stuckConn struct {
	timeoutConn
	mu     sync.Mutex
	writes int
	after  [][]byte
}

func (s *stuckConn) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.writes == 1 {
		return 0, timeoutErr{}
	}
	s.after = append(s.after, append([]byte(nil), p...))
	return len(p), nil
}

// TestWriteTimeoutTriesCloseFrame: a connection cut off by a write
// timeout is sent a close frame 1008 with a reason, best effort, before
// its socket is closed.
func TestWriteTimeoutTriesCloseFrame(t *testing.T) {
	tr := New(Config{MaxMessageSize: 100, MaxQueueBytes: 1 << 10})
	nc := &stuckConn{}
	c := tr.Attach(nc, &recorder{})
	c.Write([]byte("a frame the peer never takes"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		nc.mu.Lock()
		after := nc.after
		nc.mu.Unlock()
		if len(after) > 0 {
			f, err := readFrame(bytes.NewReader(after[0]))
			if err != nil || f.Header.OpCode != ws.OpClose || f.Payload[0] != 0x03 || f.Payload[1] != 0xf0 ||
				string(f.Payload[2:]) != "slow consumer: write timed out" {
				t.Fatalf("after the timeout: %+v %q %v", f.Header, f.Payload, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no close frame was tried")
		}
		time.Sleep(time.Millisecond)
	}
}

// readFrame reads one server frame (unmasked) of at most 125 bytes of
// payload: the close frames these tests expect.
func readFrame(r io.Reader) (ws.Frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return ws.Frame{}, err
	}
	if h.Length > 125 {
		return ws.Frame{Header: h}, fmt.Errorf("a frame of %d bytes", h.Length)
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(r, p)
	return ws.Frame{Header: h, Payload: p}, err
}

// fanoutHandler queues, for each message, frames to receivers on the
// worker's Batch, and on the first message makes the next one arrive
// (as a publisher's next publication arrives during a fan-out).
type fanoutHandler struct {
	recorder
	receivers []*Conn
	next      func()
}

func (h *fanoutHandler) HandleMessage(w *Worker, op ws.OpCode, p []byte) bool {
	h.recorder.HandleMessage(w, op, p)
	for _, r := range h.receivers {
		r.WriteShared(&w.Batch, []byte{0x81, 1, 'x'})
	}
	if h.next != nil {
		h.next()
		h.next = nil
	}
	return true
}

// TestReadAgainAfterFanout: a short read ends the readiness event (the
// read that would only say EAGAIN is saved) unless what it held queued
// coalesceFrames frames or more; then the socket is read again before
// the flush, so that a message that arrived during the fan-out is handled
// in the same event and its frames leave in the same writes.
func TestReadAgainAfterFanout(t *testing.T) {
	for _, tt := range []struct {
		name      string
		receivers int
		want      int // messages handled by the first event
	}{
		{"one receiver: the event ends", 1, 1},
		{"a fan-out: read again", coalesceFrames, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTestTransport(1 << 20)
			t.Cleanup(func() { tr.Close() })
			h := &fanoutHandler{}
			for range tt.receivers {
				r, peer := socketPair(t, tr, &recorder{})
				h.receivers = append(h.receivers, r)
				go io.Copy(io.Discard, peer)
			}
			c, peer := socketPair(t, tr, h)
			h.next = func() {
				if _, err := peer.Write(clientFrame(ws.OpText, true, []byte("second"))); err != nil {
					t.Error(err)
				}
			}
			if _, err := peer.Write(clientFrame(ws.OpText, true, []byte("first"))); err != nil {
				t.Fatal(err)
			}
			w := tr.newWorker()
			if !serve(c, w) {
				t.Fatal("closed")
			}
			if got := len(h.messages()); got != tt.want {
				t.Fatalf("the first event handled %d messages, want %d", got, tt.want)
			}
			if !serve(c, w) {
				t.Fatal("closed")
			}
			if got := h.messages(); len(got) != 2 {
				t.Fatalf("handled %q, want both messages", got)
			}
		})
	}
}
