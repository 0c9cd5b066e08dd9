// Package router is tagwamp's WAMP v1 server: the listener, the WebSocket
// handshake, the epoll-driven reader, sessions, RPC dispatch and the tag
// topic fan-out (wamp1.md §1-4).
//
//	srv := router.New(router.Options{RPC: mux, Logger: logger})
//	go srv.ListenAndServe("127.0.0.1:8080")
//	...
//	srv.Shutdown(ctx)
//
// # Shape
//
// Each accepted connection runs the connection middleware, the TLS
// handshake when configured, and the zero-copy HTTP upgrade of gobwas/ws on
// a short-lived goroutine of the handshake pool: at most MaxHandshakes at
// once, the accept loop taking a place before it accepts, so that a
// reconnect storm waits in the kernel's listen backlog rather than in
// goroutines and never takes the workers that serve live sessions; each
// handshake is bounded by HandshakeTimeout, and Shutdown closes those in
// progress. The subprotocol "wamp" is echoed when offered (wamp1.md §1);
// a client offering others but not "wamp" is refused with 400, and one
// offering none is a plain tag connection (below). After WELCOME the
// connection's own descriptor is registered with easygo's epoll
// (EPOLLONESHOT) and the goroutine ends: an idle session holds no goroutine
// and no buffer. When the socket becomes readable, a worker of a bounded
// pool reads what is there with a non-blocking read(2) into a pooled
// buffer, parses frames with gobwas/ws's low-level API, unmasks them in
// place, and decodes and dispatches each message straight from that buffer;
// then it re-arms the descriptor. A frame larger than MaxMessageSize closes
// the session with 1009 as soon as its header is read.
//
// Writes go to a per-connection queue, bounded by MaxQueueBytes. A
// publication encodes its EVENT once per distinct topic string and queues
// the same bytes to every receiver of that string (wamp1.md §4). The
// worker serving a read batch does not write as it queues: it records each
// connection it queued to on its flush list, once (conn.flushing says that
// someone owns the queue's writing), and when the batch ends it writes each
// of them itself with one non-blocking writev of everything pending, the
// shape of nats-server's flushClients. So the frames of one batch to one
// receiver leave together, one publication to 10,000 receivers costs
// 10,000 writevs and no goroutine, and a batch that gathers 131,072 frames,
// or a receiver whose queue passes a quarter of MaxQueueBytes, flushes
// early, and so does a batch about to run an RPC handler while it holds
// frames for connections other than the caller's (they never wait for a
// handler). A server-side Publish does the same on its caller's goroutine.
// Only what a socket does not take at once (a slow receiver, a full
// buffer) goes to a flusher goroutine, which writes it in order before
// anything queued later, waiting under WriteTimeout; so a slow receiver
// never holds a worker, and the queue bound and the slow-consumer close
// hold as before. Writes that come from no worker (a deferred Reply, a
// ping, the WELCOME, the close frame) and every write of a TLS connection
// (crypto/tls may block) go to a flusher goroutine too.
//
// # Plain tag connections
//
// A connection that offers no subprotocol is a plain tag connection, the
// Gomoob dialect (wamp1.md §5; plain.go). Its URL's tags parameter, a
// JSON object of strings or integers parsed by tagindex.ParseJSON, is its
// one subscription, without a base; bad tags answer 400 with the reason
// before the upgrade, and the TopicHandler sees the subscription there too
// (Session.Plain, Topic ""), a refusal answering its *HTTPError or 403. It
// gets no WELCOME, no goroutine and no buffer when idle, like a WAMP
// session. Each text frame is a request {"message": any, "tags": {...},
// "metadata": {...}}, published through the TopicHandler with tag set
// tags and no base (Publication.Metadata borrowed like Event), the sender
// excluded unless DeliverToPublisher. Closes:
//
//	1007  not UTF-8, or not JSON
//	1002  JSON but not a request: not an object, no "message", a key other
//	      than message, tags and metadata, tags not an object of strings
//	      or integers (with tagindex's reason), metadata not an object
//	1003  a binary frame
//
// A plain receiver gets the published event alone, without envelope,
// from plain requests and WAMP PUBLISHes alike: deliver encodes that frame
// once per publication and queues the same bytes to every plain receiver
// (not keyed by topic string, which a WAMP topic may equal).
//
// # Limits
//
// Every limit is an Options field with a default and an off switch.
// Connections: MaxConns and MaxConnsPerIP (off by default) refuse an
// upgrade with 503 and Retry-After; a connection holds its slot from its
// accepted upgrade request until its session is closed, released exactly
// once whichever way it ends. The client IP is the peer's, or, from one of
// TrustedProxies, the rightmost X-Forwarded-For address that is not a
// trusted proxy (Request.ClientIP). Sessions: MaxSubscriptions (SUBSCRIBEs
// over it are dropped and counted), MaxPrefixes (a PREFIX over it closes
// with 1008), and two token buckets, MessageRate and ByteRate, that close
// an abusive session with 1008 and a reason. A session's buckets are
// three integers inline in its connection (two levels and the last refill;
// the rates are the server's), belong to the worker serving it (no lock),
// and are refilled once per read notification with the clock that the
// worker reads anyway: charging a frame is a subtraction and a comparison.
//
// # TLS
//
// With Options.TLSConfig the socket carries TLS, and epoll sees only the
// socket: it cannot see bytes that crypto/tls has already read off it and
// holds, decrypted or not. The TLS path is correct by construction:
//
//   - The TLS handshake and the HTTP upgrade run in the handshake pool,
//     through a *tls.Conn over a transport (tls.go) that reads the socket
//     as usual, blocking, under the HandshakeTimeout deadline.
//   - Before the descriptor goes to the poller the transport turns
//     non-blocking: each Read is one read(2) on the descriptor that answers
//     a net.Error whose Timeout and Temporary are true when the socket is
//     empty, instead of waiting. (A read deadline in the past cannot do
//     this: the runtime's poller refuses a read whose deadline has passed
//     before it tries read(2), so it would never read new bytes.)
//     crypto/tls does not make such an error sticky: readRecordOrCCS
//     records an error as the connection's permanent one only when it is
//     not a Temporary net.Error (crypto/tls/conn.go, `if e, ok :=
//     err.(net.Error); !ok || !e.Temporary() { c.in.setErrorLocked(err) }`),
//     and the bytes of a partial record it has read stay in its raw input
//     buffer for the next Read.
//   - A worker woken for the descriptor reads through the tls.Conn until
//     that error comes back. By then crypto/tls has returned every byte of
//     every complete record (several frames in one record, one frame over
//     many records, a partial record kept for later), and only then is the
//     descriptor re-armed. A worker stopped earlier by its read budget does
//     not re-arm: it schedules the connection again, since crypto/tls may
//     still hold records while the socket is empty. Right after the upgrade
//     the connection is also read once, for a client that sent frames
//     without waiting for the 101.
//   - Writes go through the tls.Conn under the write deadline; crypto/tls
//     has no vectored write, so a flush coalesces its frames into buffers
//     of up to 64 KiB, borrowed for the flush. Reads and writes of one
//     tls.Conn may run at once (crypto/tls locks each direction).
//
// # Handlers and middleware
//
// Application code plugs in at four points, each a small interface with a
// func adapter, set in Options:
//
//	Filters       HandshakeFilter     admit or refuse a connection: Handshake
//	                                  on the upgrade request, and AcceptConn
//	                                  (ConnFilter) before any byte is read
//	RPC           RPCHandler          answer CALLs ...
//	RPCMiddleware RPCMiddleware       ... wrapped by these (logging, access)
//	Topics        TopicHandler        allow, drop or change SUBSCRIBE and
//	                                  PUBLISH, in order
//	SessionHooks  SessionHook         see each session open and close
//
// Package handlers provides the usual ones (a URI mux, IP and Origin
// filters, a call logger, the built-in procedures). A CALL's error becomes
// the CALLERROR that CallError describes.
//
// Plug points that must work together, such as package auth's (a filter
// that authenticates, RPC and topic policies that use the identity it
// found, a hook that times out sessions that never authenticate), come as
// one Extension in Options.Extensions. The server layers every part
// itself, in this fixed order, whatever the order in which the Options
// were built:
//
//	admission  AcceptConn of the extensions' filters, then of Filters
//	           (those that are ConnFilters; not for trusted proxies);
//	           then Handshake in the same order
//	calls      RPCMiddleware (the first outermost), then the extensions'
//	           RPC middleware, then RPC (when nil, a handler that answers
//	           NoSuchRPCEndpoint)
//	topics     the extensions' topic handlers, then Topics
//	sessions   the extensions' hooks, then SessionHooks, for SessionOpened
//	           and SessionClosed alike
//
// So an extension decides before the application's own filters, policies
// and hooks, which see what it established (an identity in the session's
// values, bound tags, a redacted URI), and the application's RPC
// middleware sees every call, the ones an extension refuses or answers
// itself included (a call logger logs them). Within one layer, extensions
// keep their order in Options.Extensions.
//
// Handlers run on the worker pool; the bytes they are given (Call.Args,
// Publication.Event, Publication.Topic) are borrowed from the frame buffer
// and valid only until they return.
//
// An RPC handler that must answer later without holding a worker calls
// Call.Defer and sends its answer through the returned Reply, exactly once,
// from any goroutine.
//
// Handshake filters can hand values to the session they admit:
// Request.SetValue before the upgrade, Session.Value after. Handshake
// filters and the SessionOpened hooks see the whole upgrade request; an
// established session then keeps it without Header and Protocols, unless
// Options.KeepRequestHeader is set. SessionOpened runs once, after WELCOME
// and before the first message is handled; SessionClosed once, when the
// connection is gone, never before SessionOpened has returned.
//
// # Concurrency
//
// All exported methods are safe for concurrent use. At most one worker
// serves a session at a time, so a session's messages are handled in order
// and one publisher's events reach each receiver in publish order.
//
// LOCKS, outermost first; a lock may be taken while holding one above it:
//
//	Session.hookMu held while a session is registered and its
//	               SessionOpened hooks run, and while its SessionClosed
//	               hooks run
//	Server.mu      listeners, the connection registry, shutdown
//	connLimiter.mu connection counts (a leaf: taken alone, at an upgrade
//	               and when a connection ends)
//	Session.mu     the session's subscriptions and values
//	tagindex lock  the index (Add/Remove under Session.mu; Match alone,
//	               its callback only collects)
//	conn.wmu       the write queue and its owner (conn.flushing)
//	conn.mu        connection state and the poller registration
//
// conn.mu and conn.wmu are never held together, nor two connections'
// wmu; easygo's epoll lock is taken under conn.mu. A Match callback takes
// no lock: frames are queued after Match returns. A flush list belongs to
// one goroutine and has no lock; the writev runs with no lock of ours held
// (only the runtime's per-descriptor write lock, through RawConn.Write),
// so queuing to a connection never waits for its write.
package router
