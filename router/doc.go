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
// Each accepted connection runs the connection middleware and the
// zero-copy handshake of gobwas/ws on a short-lived goroutine; the
// subprotocol "wamp" is required and echoed (wamp1.md §1). After WELCOME the
// connection's own descriptor is registered with easygo's epoll
// (EPOLLONESHOT) and the goroutine ends: an idle session holds no goroutine
// and no buffer. When the socket becomes readable, a worker of a bounded
// pool reads what is there with a non-blocking read(2) into a pooled
// buffer, parses frames with gobwas/ws's low-level API, unmasks them in
// place, and decodes and dispatches each message straight from that buffer;
// then it re-arms the descriptor. A frame larger than MaxMessageSize closes
// the session with 1009 as soon as its header is read.
//
// Writes go to a per-connection queue, bounded by MaxQueueBytes. A flusher
// goroutine, started only while the queue is non-empty, writes everything
// pending with one writev. A publication encodes its EVENT once per
// distinct topic string and queues the same bytes to every receiver of that
// string (wamp1.md §4).
//
// # Handlers and middleware
//
// Application code plugs in through small interfaces, in the layers of
// BabDev's WebSocket server: ConnMiddleware (the raw connection),
// HandshakeMiddleware (the HTTP upgrade request), MessageMiddleware (every
// decoded WAMP message), and RPCHandler and TopicHandler with their
// RPCMiddleware and TopicMiddleware (per-message policy). Package handlers
// provides the usual ones. Handlers run on the worker pool; the bytes they
// are given (Call.Args, Publication.Event, Publication.Topic) are borrowed
// from the frame buffer and valid only until they return.
//
// An RPC handler that must answer later without holding a worker calls
// Call.Defer and sends its answer through the returned Reply, exactly once,
// from any goroutine.
//
// Handshake middleware can hand values to the session it admits:
// Request.SetValue before the upgrade, Session.Value after. SessionHook
// (Options.SessionHooks) sees each session open and close: SessionOpened
// once, after WELCOME and before the first message is handled;
// SessionClosed once, when the connection is gone, never before
// SessionOpened has returned.
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
//	Session.mu     the session's subscriptions and values
//	tagindex lock  the index (Add/Remove under Session.mu; Match alone,
//	               its callback only collects)
//	conn.wmu       the write queue
//	conn.mu        connection state and the poller registration
//
// conn.mu and conn.wmu are never held together; easygo's epoll lock is
// taken under conn.mu. A Match callback takes no lock: frames are queued
// after Match returns.
package router
