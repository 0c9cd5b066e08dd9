package handlers

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// fakeInfo is an InfoSource with fixed stats.
type fakeInfo router.Stats

func (f fakeInfo) Stats() router.Stats { return router.Stats(f) }

func TestBuiltins(t *testing.T) {
	var m Mux
	RegisterBuiltins(&m, fakeInfo{Sessions: 3, Subscriptions: 7, Started: time.Now().Add(-90 * time.Second)})
	tests := []struct {
		uri  string
		args []json.RawMessage
		want string // the result as JSON
	}{
		{ProcPing, nil, `"pong"`},
		{ProcPing, rawArgs("1"), `"pong"`},
		{ProcEcho, nil, `[]`},
		{ProcEcho, rawArgs(`1`, `"a"`, `[1,2]`, `{"k":null}`, `null`), `[1,"a",[1,2],{"k":null},null]`},
		{ProcSessionInfo, nil, `{"session_id":"","remote_addr":""}`},
		{ProcServerInfo, nil, `{"server":"tagwamp/` + router.Version + `","version":"` + router.Version +
			`","uptime_seconds":90,"sessions":3,"subscriptions":7,"go":"` + runtime.Version() + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			res, err := m.ServeCall(context.Background(), nil, &router.Call{URI: tt.uri, Args: tt.args})
			if err != nil {
				t.Fatal(err)
			}
			got, err := protocol.MarshalPayload(res)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("result %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBuiltinsEchoCopies(t *testing.T) {
	frame := []byte(`"abc"`)
	res, err := Echo(context.Background(), nil, &router.Call{Args: []json.RawMessage{frame}})
	if err != nil {
		t.Fatal(err)
	}
	copy(frame, `"xyz"`)
	got, err := protocol.MarshalPayload(res)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `["abc"]` {
		t.Fatalf("echo result %s after the frame changed: it aliases the frame", got)
	}
}

func TestBuiltinsWithoutServer(t *testing.T) {
	var m Mux
	RegisterBuiltins(&m, nil)
	exact, _ := m.Patterns()
	want := []string{ProcEcho, ProcPing, ProcSessionInfo}
	if len(exact) != len(want) {
		t.Fatalf("registered %q, want %q", exact, want)
	}
	for i := range want {
		if exact[i] != want[i] {
			t.Fatalf("registered %q, want %q", exact, want)
		}
	}
}

func TestBuiltinsTwicePanics(t *testing.T) {
	var m Mux
	RegisterBuiltins(&m, nil)
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	RegisterBuiltins(&m, nil)
}
