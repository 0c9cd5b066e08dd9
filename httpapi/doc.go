// Package httpapi is tagwamp's HTTP API for backends that do not speak
// WAMP: publish (one publication or a batch), ask who a publication would
// reach, call a procedure, disconnect a session, read the server's counters,
// and probe liveness and readiness. It is an http.Handler over a small
// interface, Backend, that *router.Server satisfies; docs/http-api.md shows
// every endpoint with curl, and openapi.yaml describes them (OpenAPI 3.1).
//
//	api, err := httpapi.New(httpapi.Config{
//		Server: srv, // a *router.Server
//		Keys: []httpapi.Key{{Name: "billing", Key: "…at least 16 bytes…",
//			Endpoints: []httpapi.Endpoint{httpapi.EndpointPublish, httpapi.EndpointBatch}}},
//		Ready: srv.Ready,
//	})
//	if err != nil { ... }
//	go http.ListenAndServe("127.0.0.1:8081", api)
//
// # Endpoints
//
//	POST /api/publish     {"topic": t, "event": v, "exclude": [...], "eligible": [...]}
//	                      or {"tags": {...}, "message": v, ...}   -> {"receivers": n}
//	POST /api/batch       [publication, ...]        -> {"results": [{"receivers": n}, ...]}
//	POST /api/call        {"procedure": uri, "args": [...]}
//	                      -> {"result": v} or {"error": {"uri", "desc", "details"}}
//	POST /api/presence    {"topic": t} or {"tags": {...}}, "limit": n
//	                      -> {"sessions": n, "ids": [...], "nodes": n, "partial": false}
//	POST /api/disconnect  {"session": id, "reason": text} -> {"disconnected": true}
//	GET  /api/info        version, uptime, sessions, subscriptions, refusals
//	GET  /healthz         the process is up: always 200
//	GET  /readyz          Config.Ready: 200, or 503 with its reason
//
// A publication goes through router.Server.PublishWith: the receivers are
// chosen as for a WAMP PUBLISH (docs/protocol.md#publish-options) by a
// topic (docs/protocol.md#tag-topics) or, in Gomoob's shape, by tags alone
// with no base (docs/protocol.md#plain-requests), under the PUBLISH limits
// (docs/protocol.md#limits). A batch is checked whole before any of it is
// delivered, then delivered in order. Topic handlers (package auth's
// permissions and bound tags) are not consulted: an API key is the
// authorization. A call runs the RPC handler chain, middleware included, as
// the session router.BackendSessionID (router.Server.CallAsBackend); its
// CALLERROR is an answer, given with status 200 like a result. Presence
// goes through router.Server.ClusterPresence: in a cluster it counts the
// sessions of every node that answered in time, and says how many did and
// whether one it knows did not ("partial").
//
// # Errors
//
// Every refusal is {"error": {"code": c, "message": m}} with the status
// that fits (a refused batch adds "index", the first publication refused).
// Nothing is half done: a request is checked whole before it acts.
//
//	400 bad_json           not JSON, trailing data after the value, an empty body
//	400 bad_request        an unknown field, a wrong type, a missing or extra field
//	400 bad_publication    a malformed topic or tags, an event that is not JSON
//	401 unauthorized       no key, or a key that is not configured (WWW-Authenticate)
//	403 forbidden          a key that does not grant the endpoint
//	404 not_found          an unknown path; no_such_session for /api/disconnect
//	405 method_not_allowed another method (Allow names the one served)
//	413 body_too_large     a body over MaxBody; batch_too_large over MaxBatch
//	415 unsupported_media_type  a POST body that is not application/json
//	422 over_limit         over a router limit: tags, topic length, session ids
//	429 too_many_requests  the client's address is over Config.Rate (Retry-After)
//	503 not_ready          Config.Ready reports an error (the /api/ endpoints
//	                       that act, and /readyz)
//	503 busy               /api/presence in a cluster: too many presence requests
//	                       in flight on this node (Retry-After)
//
// # Authentication
//
// Each Key authorizes a list of endpoints. A request names its key in
// "Authorization: Bearer <key>" or "Authorization: apikey <key>". The key
// presented is hashed (SHA-256) and compared with the digest of every
// configured key with crypto/subtle, so an unknown key takes as long as a
// known one and the comparison reveals no length. Keys never appear in
// logs, errors or answers; a key's Name does. /healthz and /readyz need no
// key.
//
// With no key configured the handler is open: anyone who reaches it may
// publish to every session. The caller decides where to mount it, and the
// rule is: bound to a non-loopback address with no key configured, the API
// is off. cmd/tagwamp follows it.
//
// # Concurrency
//
// The handler is immutable after New and safe for concurrent use; every
// request is served on its net/http goroutine, and a call holds that
// goroutine (not a router worker) until the procedure answers, the request
// is canceled or CallTimeout passes. The request bytes handed to Backend
// (events, tags, args) belong to that request and are not kept.
package httpapi
