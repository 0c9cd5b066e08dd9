// Package web serves tagwamp's demo page: one HTML page, its stylesheet
// and script, and the browser client tagwamp.js, embedded in the binary
// (no build step). The page connects back to the server that served it
// over WebSocket, shows the connection's state, subscribes to tag topics
// and logs their events, publishes with the exclude and eligible options,
// calls procedures, and explains tag matching (P ⊆ S,
// docs/protocol.md#tag-matching) on the live subscriptions.
//
// Handler is an http.Handler for router.Options.HTTP (requests that are
// not WebSocket upgrades), usually behind a mux that sends /api/ to the
// HTTP API; cmd/tagwamp mounts it by default on a loopback address (YAML
// web_ui).
package web
