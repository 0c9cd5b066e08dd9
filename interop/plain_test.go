package interop_test

import (
	"testing"

	"github.com/tagwamp/tagwamp/router"
)

// TestPlainClient drives plain tag connections
// (docs/protocol.md#plain-connections) with the npm WebSocket client ws, beside
// a WAMP v1 subscriber from the npm client wamp1 (see plain_client.js).
func TestPlainClient(t *testing.T) {
	needNode(t)
	addr := serve(t, router.New(router.Options{}))
	runNode(t, "plain_client.js", "plain ok", "ws://"+addr+"/")
}
