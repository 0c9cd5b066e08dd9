// Package router is tagwamp's WAMP v1 server: the listener, the WebSocket
// handshake, the epoll-driven reader, sessions, RPC dispatch and the tag
// topic fan-out (docs/protocol.md#transport, docs/protocol.md#messages,
// docs/protocol.md#tag-matching).
//
//	srv := router.New(router.Options{RPC: mux, Logger: logger})
//	go srv.ListenAndServe("127.0.0.1:8080")
//	...
//	srv.Shutdown(ctx)
//
// # Shape
//
// The router is the WAMP layer over package internal/wsconn, the WebSocket
// transport (docs/architecture.md draws both). The accept loop accepts
// without waiting for anything, so the listen backlog keeps draining, and
// counts each connection against its peer address (MaxHandshakesPerIP).
// A new connection then waits for its first byte in a waiting room of its
// own (admission.go: one epoll instance, no goroutine per connection),
// closed if it stays silent for HandshakeFirstByteTimeout, so that sockets
// that never speak (slowloris) cost a descriptor and never delay an
// honest client. Once it has spoken it takes one of MaxHandshakes places,
// or waits for one in arrival order, and runs the connection filters,
// the TLS handshake when configured and the zero-copy HTTP upgrade of
// gobwas/ws on a short-lived goroutine of its own; a reconnect storm never
// takes the workers that serve live sessions. Each handshake is bounded by
// HandshakeTimeout from the accept, its request line by MaxRequestLine and
// its header by MaxHeaderLine and MaxHandshakeBytes, counted as the bytes
// arrive (headlimit.go: gobwas/ws bounds neither); Shutdown closes those
// in progress. The subprotocol
// "wamp" is echoed when offered (docs/protocol.md#subprotocol); a client
// offering others but not "wamp" is refused with 400, and one offering
// none is a plain tag connection (below). After WELCOME the session's
// wsconn.Conn starts and the goroutine ends: from then on the transport
// reads the socket when epoll says it is readable, on a worker of its
// pool, and hands each complete message to the session (connHandler,
// session.go), which decodes it in place and dispatches it (dispatch.go)
// with the worker's scratch (worker.go) passed explicitly.
//
// A publication encodes its EVENT once per distinct topic string and
// queues the same bytes to every receiver of that string
// (docs/protocol.md#encode-once) on the worker's wsconn.Batch, which the
// transport flushes with one writev per receiver when the readiness event
// ends; a worker flushes it early before an RPC handler runs, so that
// deliveries never wait for a handler. A server-side Publish does the same
// with a Batch of its own on its caller's goroutine.
//
// # Plain tag connections
//
// A connection that offers no subprotocol is a plain tag connection, the
// Gomoob dialect (docs/protocol.md#plain-connections; plain.go). Its
// URL's tags parameter, a JSON object of strings or integers parsed by
// tagindex.ParseJSON, is its one subscription, without a base; bad tags
// answer 400 with the reason before the upgrade, and the TopicHandler
// sees the subscription there too (Session.Plain, Topic ""), a refusal
// answering its *HTTPError or 403. It gets no WELCOME, no goroutine and
// no buffer when idle, like a WAMP session. Each text frame is a request
// {"message": any, "tags": {...}, "metadata": {...}}, published through
// the TopicHandler with tag set tags and no base (Publication.Metadata
// borrowed like Event), the sender excluded unless DeliverToPublisher.
// A request is decoded in one pass by protocol.Decoder.DecodePlain.
// Closes:
//
//	1007  not UTF-8, or not JSON
//	1002  JSON but not a request: not an object, no "message", a key other
//	      than message, tags and metadata, a duplicate key, tags not an
//	      object of strings or integers (with tagindex's reason, limits
//	      included), metadata not an object
//	1009  more JSON values than MaxMessageElements
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
// an abusive session with 1008 and a reason (kept and charged by the
// transport, internal/wsconn). One message: MaxURILength (resolved URIs and
// topics, PREFIX URIs), MaxTagsPerTopic, MaxMessageElements and
// MaxPublishIDs, applied by the decoder and the tag parser before the work
// they guard (protocol.Limits, tagindex.Limits). The whole server:
// MaxRunningCalls (RPC handlers at once), MaxBufferedInput (partial frames
// held between reads), MaxQueuedTotal (queued output: relieve sheds the
// sessions holding the most) and FrameTimeout (a stalled incomplete
// message), checked by the sweeper with the pings. docs/protocol.md#limits
// lists them all with their defaults; every one that bites is counted in
// Stats.
//
// # TLS
//
// With Options.TLSConfig the TLS handshake runs in the handshake pool
// under HandshakeTimeout, and the transport reads and writes through
// crypto/tls (internal/wsconn's package doc says how epoll and crypto/tls's
// buffered records are reconciled).
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
//	shutdown   the extensions' Drains, all at once, after the listeners
//	           close and before the sessions do (Server.Shutdown)
//
// So an extension decides before the application's own filters, policies
// and hooks, which see what it established (an identity in the session's
// values, bound tags, a redacted URI), and the application's RPC
// middleware sees every call, the ones an extension refuses or answers
// itself included (a call logger logs them). Within one layer, extensions
// keep their order in Options.Extensions.
//
// Handlers run on the worker serving the session; a worker leaves the
// worker pool while an RPC handler runs (at most MaxRunningCalls at once),
// so that a slow handler never stops the server from reading other
// sessions. An RPC handler that never blocks can say so (InlineHandler,
// Inline): its calls are answered on the goroutine that read them, which,
// for one call in flight, is the one the runtime's poller woke. The bytes
// handlers are given (Call.Args, Publication.Event,
// Publication.Topic) are borrowed from the frame buffer and valid only
// until they return.
//
// An RPC handler that must answer later without holding a worker calls
// Call.Defer and sends its answer through the returned Reply, exactly once,
// from any goroutine. An extension that defers calls gives a Drain, so that
// Shutdown lets its answers reach sessions that are still open.
//
// Options.Observer, when set, is told how long RPC handlers ran and how
// long frames waited in write queues, for histograms (package metrics's):
// two clock reads per CALL and two per flush of queued frames, none per
// frame, and none at all without it. An Observer that is a
// ShardedObserver gives each worker goroutine a shard of its own.
//
// Handshake filters can hand values to the session they admit:
// Request.SetValue before the upgrade, Session.Value after. Handshake
// filters and the SessionOpened hooks see the whole upgrade request; an
// established session then keeps it without Header and Protocols, unless
// Options.KeepRequestHeader is set. SessionOpened runs once, after WELCOME
// and before the first message is handled; SessionClosed once, when the
// connection is gone, never before SessionOpened has returned.
//
// # Cluster
//
// With Options.Broker (broker.go) the server is one node of a cluster:
// it tells the broker which tags its subscriptions hold (Interest), hands
// it every publication after delivering it locally (Publish), and
// delivers what other nodes published through DeliverRemote, to local
// subscriptions only. A broker that also implements PresenceBroker lets
// ClusterPresence count the sessions of every node (each answering with
// LocalPresence). Without one nothing changes but a nil check.
// Package cluster provides a Broker over NATS.
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
//	Server.mu      listeners, the session registry, shutdown
//	waitRoom.mu    the connections waiting for their first byte and their
//	               epoll registrations (taken under Server.mu by Shutdown;
//	               released before a connection is handed on or dropped)
//	admission.mu   pending connections per peer address and the handshake
//	               places (a leaf)
//	connLimiter.mu connection counts (a leaf: taken alone, at an upgrade
//	               and when a connection ends)
//	Session.mu     the session's subscriptions and values
//	interest.mu    the per-tag counts of local subscriptions told to
//	               Options.Broker (broker.go): taken under Session.mu
//	               when a subscription enters or leaves the index (after
//	               it for a closing session), held while it reads the
//	               set's tags from the index and while Broker.Interest,
//	               which must not block, runs
//	tagindex lock  the index: Add under Session.mu, and Remove under it
//	               for an UNSUBSCRIBE; a closing session (detach) takes
//	               its subscriptions out under Session.mu and removes them
//	               from the index after unlocking it. Match alone: its
//	               callback only collects.
//	wsconn locks   a connection's state and write queue (see its package
//	               doc); taken by queuing a frame, never while a lock
//	               above is held.
//
// A Match callback takes no lock: frames are queued after Match returns.
package router
