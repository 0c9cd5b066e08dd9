// Package forward lets services in any language (a PHP page, a Python
// app) answer WAMP calls and decide on connections and subscriptions over
// plain HTTP: tagwamp POSTs JSON to them and turns their JSON answers into
// CALLRESULTs, CALLERRORs and decisions. What a service publishes goes
// through the HTTP API (docs/http-api.md). It plugs into the router as one
// router.Extension and changes nothing of it.
//
//	fw, err := forward.New(forward.Options{
//		Routes: []forward.Route{{Prefix: "http://example.com/app#", URL: "http://127.0.0.1:9000/rpc"}},
//	})
//	if err != nil { ... }
//	defer fw.Close() // after srv.Shutdown
//	srv := router.New(router.Options{
//		RPC:        mux, // the calls no route takes
//		Extensions: []router.Extension{a.Extension(), fw.Extension()}, // after auth's
//	})
//
// # Calls
//
// A CALL whose procedure URI starts with a Route's Prefix (the longest
// matching prefix wins) is POSTed to the route's URL; the others go on to
// the next RPC handler (the part is RPC middleware). The request body is
//
//	{"procedure": "http://example.com/app#add", "args": [2, 3],
//	 "session": {"id": "kY3l…", "auth_key": "application1", "tags": {"user": "42"}, "client_ip": "192.0.2.7"}}
//
// with the arguments as sent, whitespace aside (docs/protocol.md#call-args), the
// procedure URI with its CURIE resolved, and who the caller is: its
// session id, the application key it authenticated with ("" when
// anonymous or without package auth), the tags bound to it (a token's,
// docs/protocol.md#bound-tags, and the connect hook's) and its client IP
// (router.Request.ClientIP). A call made through the HTTP API's
// /api/call comes from the session "backend", without key, tags or IP.
//
// The service answers 2xx with one of
//
//	{"result": <any JSON>}                                      a CALLRESULT
//	{"error": {"uri": "...", "desc": "...", "details": <JSON>}} a CALLERROR (desc and details optional)
//
// Whatever else happens, the caller learns nothing of the service: a
// status other than 2xx (a 3xx is not followed), a body that is not one of
// those objects or is over Options.MaxResponseBytes (1 MiB), a service
// that cannot be reached, answer http://api.wamp.ws/error#internal
// ("internal error"); the log has the reason, with at most logval.Max
// bytes of the body. Past the route's Timeout (5s; the router's
// CallTimeout when shorter) the call answers
// http://api.wamp.ws/error#timeout (docs/protocol.md#errors). When the
// route has MaxInFlight requests running (256), a call answers at once
// http://tagwamp.dev/error#busy, "backend <name> is busy": nothing queues.
//
// A forwarded call holds no worker: the handler encodes the request,
// defers the call (router.Call.Defer) and returns, and a goroutine of its
// own waits for the service and sends the answer (router.Reply), so
// forwarded calls count against MaxInFlight, not against the router's
// MaxRunningCalls. Each route has its own http.Client, whose Transport
// keeps connections alive and opens at most MaxInFlight to the service.
//
// # Hooks
//
// The connect hook (Options.ConnectHook) is asked about every upgrade
// request the filters before it admitted:
//
//	{"client_ip": "192.0.2.7", "uri": "/?token=…", "headers": {"Origin": "https://app.example.com", "User-Agent": "…"}}
//
// Only Origin and User-Agent are told, never a Cookie or an Authorization
// (package auth has already replaced a ?secret= or ?token= in uri). It
// answers {"allow": true} or {"allow": false}, optionally with "tags", an
// object of strings or integers (docs/protocol.md#plain-connections) to
// bind to the session. A refusal answers 403. The tags bound this way
// work like a token's (docs/protocol.md#bound-tags): a SUBSCRIBE that
// names one with another value is dropped, one that lacks it gets it
// added, a PUBLISH that names one with another value is dropped; and the
// session's "tags" carry them.
//
// The subscribe hook (Options.SubscribeHook) is asked about every
// SUBSCRIBE the topic handlers before it allowed (package auth's, with a
// token's bound tags added), and about a plain tag connection's tags
// before its upgrade (topic ""):
//
//	{"session": {…}, "topic": "http://example.com/news?user=42", "tags": {"user": "42"}}
//
// It answers {"allow": true} or {"allow": false}; "tags" in an allowing
// answer are set on the subscription, replacing a value the topic gave the
// same key (the hook has the last word), while the EVENTs still carry the
// topic as subscribed (docs/protocol.md#event-topic). A refused SUBSCRIBE
// is dropped (docs/protocol.md#dropped-messages); a refused plain
// connection answers 403.
//
// A hook fails when it times out (Timeout, 2s), cannot be reached,
// answers a status other than 2xx or something else than {"allow": bool},
// or already has MaxInFlight questions running; its OnError then decides:
// Refuse (the default: a connection answers 503, a SUBSCRIBE is dropped)
// or Allow (admitted as if allowed without tags). Failures are logged at
// warn level.
//
// The cost of a hook: unlike a call, a question is not deferred. The
// connect hook runs on the connection's handshake goroutine (one of the
// router's MaxHandshakes), the subscribe hook on the worker serving the
// session, and each waits for the answer, at most the hook's Timeout:
// meanwhile that session's later messages wait, and the worker is not
// free for other sessions. A session is served by one worker at a time,
// so a slow hook holds at most one worker per subscribing session; keep
// the hook fast, its Timeout short, and the router's Workers above the
// sessions that may subscribe at once. The connect hook's wait counts in
// the router's HandshakeTimeout (10s): keep its Timeout well under it.
//
// # Shutdown and metrics
//
// The router's Shutdown runs the Forwarder's Shutdown (the Drain of its
// Extension) once its listeners are closed and while the sessions are
// open: calls forwarded before it are answered as usual, up to Shutdown's
// deadline (a tenth of the time left, at most a second, is kept to close
// the sessions); a call that comes meanwhile answers at once
// http://tagwamp.dev/error#busy, "server shutting down"; at the deadline
// the requests still running are canceled (their calls answer
// ...error#internal). Then the idle keep-alive connections to every
// service are closed. Close does the same without waiting.
//
// Options.Observer is told each forwarded call's outcome (Outcome) and
// round trip under its route's name, for package metrics's
// tagwamp_forward_call_seconds.
//
// # Concurrency
//
// A Forwarder is immutable after New, but for the in-flight counts
// (atomic) and Close; its parts run on any router goroutine. Nothing
// borrowed is kept: a call's arguments are encoded into the request
// before its handler returns; the request and answer bodies are the
// Forwarder's own.
package forward
