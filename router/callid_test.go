package router_test

import (
	"strings"
	"testing"

	"github.com/tagwamp/tagwamp/router"
)

// TestCallIDs: a callId is a JSON string or number, echoed byte for byte
// in CALLRESULT and CALLERROR; any other JSON type closes the session with
// 1002 (docs/protocol.md#call-ids).
func TestCallIDs(t *testing.T) {
	_, url := startServer(t, router.Options{RPC: testRPC()})
	for _, id := range []string{`"0.qd4lajti34a"`, `7`, `1e2`, `-0.5e-3`, `0`, `12345678901234567890123`, `"a\"b"`, `"é\u00e9"`, `2.50`} {
		c := dial(t, url)
		c.Send(`[2,` + id + `,"http://example.com/null"]`)
		if got, want := c.Recv(), `[3,`+id+`,null]`; got != want {
			t.Errorf("CALLRESULT %s, want %s", got, want)
		}
		c.Send(`[2,` + id + `,"http://example.com/nobody"]`)
		if got, want := c.Recv(), `[4,`+id+`,"http://api.wamp.ws/error#NoSuchRPCEndpoint",`; !strings.HasPrefix(got, want) {
			t.Errorf("CALLERROR %s, want it to start %s", got, want)
		}
	}
	for _, id := range []string{`null`, `true`, `false`, `[]`, `["a"]`, `{}`, `{"id":1}`} {
		c := dial(t, url)
		c.Send(`[2,` + id + `,"http://example.com/null"]`)
		c.ExpectClose(1002, "")
	}
}
