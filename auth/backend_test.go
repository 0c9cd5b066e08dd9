package auth

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tagwamp/tagwamp/router"
)

// TestBackendSession: the server's backend session (the HTTP API's calls)
// has every permission and the identity method "backend", while a WAMP
// session with the same anonymous permissions is refused.
func TestBackendSession(t *testing.T) {
	_, srv, u := startAuth(t, Options{Applications: testApps(), Anonymous: whoamiOnly}, router.Options{})
	res, perr := srv.CallAsBackend(context.Background(), "urn:test#private", nil)
	if perr != nil || string(res) != `"ok:urn:test#private"` {
		t.Fatalf("backend call: %s, %v", res, perr)
	}
	res, perr = srv.CallAsBackend(context.Background(), whoami, nil)
	var id map[string]string
	if perr != nil || json.Unmarshal(res, &id) != nil || id["method"] != "backend" {
		t.Fatalf("backend identity: %s, %v", res, perr)
	}
	c := dial(t, u)
	if uri, _ := c.callError("urn:test#private"); uri != "http://api.wamp.ws/error#not-authorized" {
		t.Fatalf("anonymous session: %s", uri)
	}
}
