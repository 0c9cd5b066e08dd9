//go:build linux

package uring

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

const sendFlags = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL

// newRing returns a ring, or skips the test where io_uring is unavailable.
func newRing(t testing.TB, p Params) *Ring {
	t.Helper()
	r, err := New(p)
	if err != nil {
		t.Skipf("io_uring unavailable: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// socketpair returns a connected pair of non-blocking stream sockets.
func socketpair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// msg is a msghdr over bufs, with its iovecs.
type msg struct {
	hdr unix.Msghdr
	iov []unix.Iovec
}

func newMsg(bufs ...[]byte) *msg {
	m := &msg{}
	for _, b := range bufs {
		v := unix.Iovec{Base: unsafe.SliceData(b)}
		v.SetLen(len(b))
		m.iov = append(m.iov, v)
	}
	m.hdr.Iov = &m.iov[0]
	m.hdr.SetIovlen(len(m.iov))
	return m
}

// readAll reads what fd holds now.
func readAll(t testing.TB, fd int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EAGAIN || n == 0 {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, buf[:n]...)
	}
}

// results submits what r holds, waits for every completion and returns
// the results by user data.
func results(t testing.TB, r *Ring, n int) map[uint64]int32 {
	t.Helper()
	if _, err := r.SubmitAndWait(uint32(n)); err != nil {
		t.Fatal(err)
	}
	got := map[uint64]int32{}
	for len(got) < n {
		if r.Reap(func(u uint64, res int32) { got[u] = res }) == 0 {
			if _, err := r.SubmitAndWait(1); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got
}

func TestSendToMany(t *testing.T) {
	for _, op := range []string{"sendmsg", "writev"} {
		t.Run(op, func(t *testing.T) {
			r := newRing(t, Params{Entries: 64})
			const socks = 40
			var peers [socks]int
			var msgs [socks]*msg
			for i := range socks {
				a, b := socketpair(t)
				peers[i] = b
				msgs[i] = newMsg([]byte("frame "), bytes.Repeat([]byte{byte('a' + i%26)}, i+1))
				var ok bool
				if op == "sendmsg" {
					ok = r.PrepSendmsg(int32(a), &msgs[i].hdr, sendFlags, uint64(1000+i))
				} else {
					ok = r.PrepWritev(int32(a), msgs[i].iov, uint64(1000+i))
				}
				if !ok {
					t.Fatalf("ring full at %d", i)
				}
			}
			got := results(t, r, socks)
			for i := range socks {
				want := append([]byte("frame "), bytes.Repeat([]byte{byte('a' + i%26)}, i+1)...)
				if res := got[uint64(1000+i)]; res != int32(len(want)) {
					t.Errorf("op %d: result %d, want %d", i, res, len(want))
				}
				if b := readAll(t, peers[i]); !bytes.Equal(b, want) {
					t.Errorf("socket %d got %q, want %q", i, b, want)
				}
			}
			if r.Inflight() != 0 {
				t.Errorf("Inflight %d after reaping all", r.Inflight())
			}
		})
	}
}

func TestShortWriteAndFull(t *testing.T) {
	for _, op := range []string{"sendmsg", "writev"} {
		t.Run(op, func(t *testing.T) {
			r := newRing(t, Params{Entries: 8})
			a, b := socketpair(t)
			if err := unix.SetsockoptInt(a, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
				t.Fatal(err)
			}
			big := make([]byte, 4<<20)
			m := newMsg(big)
			prep := func(u uint64) {
				if op == "sendmsg" {
					r.PrepSendmsg(int32(a), &m.hdr, sendFlags, u)
				} else {
					r.PrepWritev(int32(a), m.iov, u)
				}
			}
			prep(1)
			res := results(t, r, 1)[1]
			if res <= 0 || int(res) >= len(big) {
				t.Fatalf("first write: %d, want a short count", res)
			}
			prep(2) // the socket is full now
			if op == "writev" {
				// io_uring polls the socket for room, O_NONBLOCK or not:
				// the write completes once the peer reads.
				if _, err := r.Submit(); err != nil {
					t.Fatal(err)
				}
				read := len(readAll(t, b))
				for read < int(res) {
					read += len(readAll(t, b))
				}
				if res2 := results(t, r, 1)[2]; res2 <= 0 {
					t.Fatalf("writev after the peer read: %d, want > 0", res2)
				}
				return
			}
			if res := results(t, r, 1)[2]; res != -int32(unix.EAGAIN) {
				t.Fatalf("sendmsg to a full socket: %d, want -EAGAIN", res)
			}
			if n := len(readAll(t, b)); n != int(res) {
				t.Fatalf("peer read %d bytes, want %d", n, res)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Run("EPIPE", func(t *testing.T) {
		r := newRing(t, Params{})
		a, b := socketpair(t)
		unix.Close(b)
		m := newMsg([]byte("x"))
		r.PrepSendmsg(int32(a), &m.hdr, sendFlags, 7)
		if res := results(t, r, 1)[7]; res != -int32(unix.EPIPE) {
			t.Fatalf("send to a closed peer: %d, want -EPIPE", res)
		}
	})
	t.Run("ECONNRESET", func(t *testing.T) {
		r := newRing(t, Params{})
		cl, sv := tcpPair(t)
		cl.(*net.TCPConn).SetLinger(0)
		cl.Write([]byte("unread")) // unread data makes the close a reset too
		cl.Close()
		f, err := sv.(*net.TCPConn).File() // a blocking duplicate
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		defer sv.Close()
		m := newMsg([]byte("x"))
		var res int32
		for range 100 { // the RST may arrive after the first send
			r.PrepSendmsg(int32(f.Fd()), &m.hdr, sendFlags, 9)
			if res = results(t, r, 1)[9]; res < 0 {
				break
			}
		}
		if res != -int32(unix.ECONNRESET) && res != -int32(unix.EPIPE) {
			t.Fatalf("send after a reset: %d, want -ECONNRESET or -EPIPE", res)
		}
	})
	t.Run("EBADF", func(t *testing.T) {
		r := newRing(t, Params{})
		m := newMsg([]byte("x"))
		r.PrepSendmsg(-1, &m.hdr, sendFlags, 3)
		r.PrepNop(4)
		got := results(t, r, 2) // SUBMIT_ALL: the nop after it completes too
		if got[3] != -int32(unix.EBADF) || got[4] != 0 {
			t.Fatalf("results %v, want 3: -EBADF, 4: 0", got)
		}
	})
}

func TestRingFull(t *testing.T) {
	r := newRing(t, Params{Entries: 4})
	n := 0
	for r.PrepNop(uint64(n)) {
		n++
		if n > 1000 {
			t.Fatal("ring never full")
		}
	}
	if n != r.Entries() || r.Free() != 0 {
		t.Fatalf("queued %d, Free %d; want %d, 0", n, r.Free(), r.Entries())
	}
	got := results(t, r, n)
	for u := range uint64(n) {
		if res, ok := got[u]; !ok || res != 0 {
			t.Errorf("nop %d: %d, %v", u, res, ok)
		}
	}
	if r.Free() != r.Entries() {
		t.Fatalf("Free %d after reaping, want %d", r.Free(), r.Entries())
	}
	// Twice the ring's size in two rounds: the indexes wrap.
	for round := range 3 {
		for i := range r.Entries() {
			if !r.PrepNop(uint64(round*100 + i)) {
				t.Fatalf("round %d: full at %d", round, i)
			}
		}
		if got := results(t, r, r.Entries()); len(got) != r.Entries() {
			t.Fatalf("round %d: %d results", round, len(got))
		}
	}
}

func TestSQPoll(t *testing.T) {
	r, err := New(Params{Entries: 8, SQPoll: true})
	if err != nil {
		t.Skipf("SQPOLL unavailable: %v", err)
	}
	defer r.Close()
	a, b := socketpair(t)
	m := newMsg([]byte("polled"))
	for i := range 3 {
		r.PrepSendmsg(int32(a), &m.hdr, sendFlags, uint64(i))
	}
	got := results(t, r, 3)
	for i := range uint64(3) {
		if got[i] != 6 {
			t.Errorf("op %d: %d, want 6", i, got[i])
		}
	}
	if s := string(readAll(t, b)); s != "polledpolledpolled" {
		t.Fatalf("peer read %q", s)
	}
}

func TestClosed(t *testing.T) {
	r := newRing(t, Params{})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	if _, err := r.Submit(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
}
