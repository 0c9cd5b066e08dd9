// Package wsconn is tagwamp's WebSocket transport: it owns the sockets of
// established connections, reads their frames when epoll says they are
// readable, and writes what is queued to them with vectored writes. It
// knows RFC 6455, not WAMP: a Handler (package router's session) gets each
// complete data message and decides what it means.
//
//	t := wsconn.New(wsconn.Config{MaxMessageSize: 1 << 20, Local: newScratch})
//	c, err := t.NewConn(nc)         // after accept
//	c.StartTLS(cfg)                 // optional, under the caller's deadline
//	... upgrade over c.HandshakeIO() ...
//	err = c.DetachFD()              // off Go's runtime poller (not TLS)
//	err = c.Start()                 // the poller watches it from now on
//	c.Write(frame)                  // from any goroutine
//	c.Close(ws.StatusNormalClosure, "bye")
//
// # Reading
//
// A connection is registered with the transport's epoll instance (found
// from its event in a table by descriptor number) with EPOLLONESHOT, so
// at most one goroutine serves it at a time and a session's messages are
// handled in order. The epoll descriptor is itself
// watched by the runtime's poller: the goroutine that waits on it parks
// like one waiting for a socket. When connections become readable, it
// hands all but one to the workers of a bounded pool (started on demand,
// idle ones exit) and serves the last itself, so that one request in
// flight wakes no goroutine but the one the runtime's poller wakes; it
// hands the waiting off to another goroutine before anything that may take
// long (Worker.Detach, Worker.Handoff, more than one read or more than a
// few frames in one event, a close's hooks). The goroutine serving a
// connection borrows a read buffer (ReadBufferSize) for the
// event, reads into it with non-blocking read(2)s (a short read ends the
// event, re-arming the level-triggered registration reports what arrives
// after it, unless the event queued a fan-out's worth of frames: then the
// socket is read again before the flush, so that messages that arrived
// meanwhile share its writes), parses the frames there
// with gobwas/ws, unmasks them in place and hands each complete message to
// the Handler straight from that buffer. Only the tail of a frame that has
// not fully arrived is copied to the connection, and a frame larger than
// the read buffer is read straight into a buffer of its own that grows (by
// 4x, from 256 KiB) with the bytes that arrive, never with the length a
// header announces. So an idle connection holds no goroutine and no
// buffer, neither does an idle worker, and one readiness event costs a few
// large reads. A worker reads at most ReadBudget bytes of one
// connection per event, then re-arms it.
//
// Frame headers are checked with gobwas/ws's CheckHeader (RFC 6455 §5.2,
// masking, control frames, fragmentation); the message size limit is
// applied to the header, before any payload is buffered. Close codes are
// checked here (validCloseCode): gobwas/ws's CheckCloseFrameData accepts
// codes above 4999, which RFC 6455 §7.4.2 forbids, and refuses 1012-1014,
// which IANA registered. Close reasons are cut on a rune boundary
// (closePayload), which ws.NewCloseFrameBody does not do.
//
// # Writing
//
// Each connection has a write queue bounded by MaxQueueBytes (a connection
// over it is a slow consumer: closed with 1008). Writers queue frames,
// copied (Write, WriteOn) or shared among receivers without a copy
// (WriteShared), and say who writes them: a Batch, which a worker (or any
// goroutine) owns and flushes once, with one non-blocking writev per
// connection, or, without one, a flusher goroutine. Only what a socket
// does not take at once goes to a flusher goroutine, which waits under
// WriteTimeout; a slow receiver never holds a worker. A long Batch is
// flushed by up to GOMAXPROCS goroutines.
//
// On Linux, unless Config.DisableIOUring, a Batch of two connections or more is
// written with io_uring (package internal/uring) instead: each
// connection's queue becomes one sendmsg operation (MSG_DONTWAIT, so it
// never waits, like the writev it replaces), up to 256 of them submitted
// and reaped with one io_uring_enter, each descriptor held (through its
// RawConn, or the reference count of a detached one) until the submission
// is done (a descriptor closed and reused
// meanwhile would get another connection's bytes). Each completion then
// ends that connection's write as writev's result would: an error closes
// it, a short write hands the rest to a flusher goroutine, and what was
// queued meanwhile is written in the rounds that follow. The rings come
// from a small pool of the Transport; where io_uring cannot be set up the
// transport writes with writev.
//
// # Counting and timing
//
// Each connection counts the WebSocket bytes it read and wrote
// (BytesRead, BytesWritten: 32-bit counters that saturate). With Config.ObserveQueueDelay the writers time the queue:
// a Batch reads the clock when it takes its first connection and when its
// flush ends, a flusher goroutine after each write; nothing is timed per
// frame, and without the observer no clock is read.
//
// # Descriptors
//
// After the handshake, DetachFD takes a plain connection's descriptor
// out of Go's runtime poller: it keeps a duplicate and closes the
// net.Conn, so that an idle connection holds no netFD, no addresses and
// no runtime pollDesc. Reads and non-blocking writes of a detached
// connection are raw system calls that hold the descriptor with a
// reference count (Conn.fdRefs): Abort shuts the socket down at once and
// the last system call using the descriptor closes it, so a descriptor
// number is never reused under a read or write. A write that must wait
// (a full socket) and the linger of a close make a net.Conn over another
// duplicate for their duration. A TLS connection stays on Go's poller.
//
// # Idle connections
//
// A Conn keeps only what an idle connection needs: a flusher goroutine
// borrows its scratch from the transport for the time it runs, a
// fragmented message's state is allocated when one starts, the client's
// address is the handler's (ClientIPer), and a Batch with Release lets go
// of the queue arrays of the connections it empties (the pings of a
// sweep). Keepalive queues its ping on the caller's Batch, so that one
// sweep's pings leave with one non-blocking writev each and no goroutine.
//
// # TLS
//
// With StartTLS the socket carries TLS. epoll sees only the socket, not the
// bytes crypto/tls already holds, so: once the connection starts, the
// tls.Conn reads through a transport whose Read is one non-blocking
// read(2) that answers a Temporary net.Error when the socket is empty
// (crypto/tls keeps a partial record and does not make such an error
// sticky); a worker reads until that error before it re-arms, and a worker
// stopped by its budget schedules the connection again instead of
// re-arming. Right after Start a TLS connection is read once, for bytes
// that arrived with the upgrade request. Writes go through crypto/tls on a
// flusher goroutine, coalesced into 64 KiB buffers.
//
// # Ownership of bytes
//
// The payload given to Handler.HandleMessage is borrowed from the worker's
// read buffer (or the connection's frame buffer): valid until
// HandleMessage returns. Write and WriteOn copy the frame; WriteShared
// keeps it until written, and it must never change after.
//
// # Concurrency
//
// LOCKS, outermost first: Conn.mu (state and the poller registration;
// the poller's lock is taken under it), Conn.wmu (the write queue and
// its owner). They are never held together, nor two connections' wmu. A
// Batch belongs to one goroutine. The writev runs with no lock of ours
// held. Handler methods are called with no lock held.
package wsconn
