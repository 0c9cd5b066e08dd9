//go:build linux

package uring

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestTCPFull fills a loopback TCP connection whose peer never reads:
// every sendmsg completes at once, short or with -EAGAIN, never waiting.
func TestTCPFull(t *testing.T) {
	r := newRing(t, Params{Entries: 8})
	_, sv := tcpPair(t) // the client end never reads
	sv.(*net.TCPConn).SetWriteBuffer(4096)
	rc, _ := sv.(*net.TCPConn).SyscallConn()
	m := newMsg(make([]byte, 8192))
	var last int32
	for i := 0; i < 200 && last != -int32(unix.EAGAIN); i++ {
		done := make(chan struct{})
		go func() {
			defer close(done)
			rc.Write(func(fd uintptr) bool {
				r.PrepSendmsg(int32(fd), &m.hdr, sendFlags, uint64(i))
				last = results(t, r, 1)[uint64(i)]
				return true
			})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("send %d did not complete: the ring waits for room", i)
		}
	}
	if last != -int32(unix.EAGAIN) {
		t.Fatalf("last result %d, want -EAGAIN", last)
	}
}

// tcpPair returns the two ends of a loopback TCP connection, closed when
// the test ends.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}
