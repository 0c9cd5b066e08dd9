//go:build linux

package uring

import (
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkSendMany writes one 64-byte frame to each of many sockets:
// one writev(2) per socket, against one batch of sendmsg operations and
// one io_uring_enter (none with SQPOLL). The peers' reads, between
// rounds, are not timed; ns/write is the time per frame.
func BenchmarkSendMany(b *testing.B) {
	frame := make([]byte, 64)
	for _, socks := range []int{16, 256} {
		for _, mode := range []string{"writev", "uring", "uring-sqpoll"} {
			b.Run(fmt.Sprintf("socks=%d/%s", socks, mode), func(b *testing.B) {
				var r *Ring
				switch mode {
				case "uring":
					r = newRing(b, Params{Entries: 256})
				case "uring-sqpoll":
					r = newRing(b, Params{Entries: 256, SQPoll: true})
				}
				fds := make([]int, socks)
				peers := make([]int, socks)
				for i := range socks {
					fds[i], peers[i] = socketpair(b)
				}
				m := newMsg(frame)
				buf := make([]byte, 4096)
				b.ReportAllocs()
				b.SetBytes(int64(socks * len(frame)))
				for b.Loop() {
					if r == nil {
						for _, fd := range fds {
							if _, _, e := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&m.iov[0])), 1); e != 0 {
								b.Fatal(e)
							}
						}
					} else {
						for i, fd := range fds {
							r.PrepSendmsg(int32(fd), &m.hdr, sendFlags, uint64(i))
						}
						if _, err := r.SubmitAndWait(uint32(socks)); err != nil {
							b.Fatal(err)
						}
						for got := 0; got < socks; {
							got += r.Reap(func(_ uint64, res int32) {
								if res != int32(len(frame)) {
									b.Fatalf("result %d", res)
								}
							})
							if got < socks {
								r.SubmitAndWait(uint32(socks - got))
							}
						}
					}
					b.StopTimer() // the peers' reads are not the writes' cost
					for _, p := range peers {
						unix.Read(p, buf)
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*socks), "ns/write")
			})
		}
	}
}
