package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// testRPC is a small procedure set for the conformance tests.
func testRPC() router.RPCHandler {
	return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		switch c.URI {
		case "http://example.com/simple/calc#square":
			var x float64
			if len(c.Args) != 1 || json.Unmarshal(c.Args[0], &x) != nil {
				return nil, &protocol.Error{URI: "http://example.com/error#args", Desc: "want one number"}
			}
			return x * x, nil
		case "http://example.com/echo":
			out := make([]json.RawMessage, len(c.Args))
			for i, a := range c.Args {
				out[i] = append(json.RawMessage(nil), a...)
			}
			return out, nil
		case "http://example.com/nargs":
			return len(c.Args), nil
		case "http://example.com/null":
			return nil, nil
		case "http://example.com/fail":
			return nil, &protocol.Error{URI: "http://example.com/error#fail", Desc: "it failed",
				Details: map[string]int{"code": 7}}
		case "http://example.com/fail-nodetails":
			return nil, &protocol.Error{URI: "http://example.com/error#fail", Desc: "it failed"}
		case "http://example.com/internal":
			return nil, errors.New("database password is hunter2")
		case "http://example.com/panic":
			panic("secret internals")
		case "http://example.com/slow":
			<-ctx.Done()
			return nil, ctx.Err()
		case "http://example.com/bad-details":
			return nil, &protocol.Error{URI: "http://example.com/error#x", Desc: "x", Details: make(chan int)}
		case "http://example.com/bad-result":
			return func() {}, nil
		case "http://example.com/raw":
			return json.RawMessage(`{"raw":true}`), nil
		case "http://example.com/argslist":
			return c.ArgsList(), nil
		case "http://example.com/argslist-replaced":
			// Values a handler puts in Args itself are not trusted: the
			// list is checked like a json.RawMessage.
			c.Args[0] = json.RawMessage(`"new"`)
			return c.ArgsList(), nil
		case "http://example.com/argslist-invalid":
			c.Args[0] = json.RawMessage(`{"bad"`)
			return c.ArgsList(), nil
		case "http://example.com/argslist-appended":
			c.Args = append(c.Args, json.RawMessage(`nul`))
			return c.ArgsList(), nil
		case "http://example.com/argslist-deferred":
			r, res := c.Defer(), c.ArgsList() // a copy: valid after return
			go r.Send(res, nil)
			return nil, nil
		case "http://example.com/whoami":
			return s.ID(), nil
		}
		return nil, fmt.Errorf("%w: %s", router.ErrNoSuchProcedure, c.URI)
	})
}

func TestHandshake(t *testing.T) {
	_, url := startServer(t, router.Options{})
	t.Run("wamp echoed", func(t *testing.T) {
		c := dial(t, url, "wamp")
		if c.Handshake.Protocol != "wamp" {
			t.Fatalf("negotiated %q, want wamp", c.Handshake.Protocol)
		}
	})
	t.Run("wamp among others", func(t *testing.T) {
		c := dial(t, url, "mqtt", "wamp")
		if c.Handshake.Protocol != "wamp" {
			t.Fatalf("negotiated %q, want wamp", c.Handshake.Protocol)
		}
	})
	for _, tc := range []struct {
		name   string
		protos []string
		reason string
	}{
		{"other subprotocol", []string{"wamp.2.json"}, "unsupported subprotocol wamp.2.json"},
		{"case matters", []string{"WAMP"}, "unsupported subprotocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tryDial(url, tc.protos...)
			var se ws.StatusError
			if !errors.As(err, &se) || int(se) != http.StatusBadRequest {
				t.Fatalf("dial error %v, want HTTP 400", err)
			}
			r := wstest.RawUpgrade(t, url, wstest.Request{Protocols: tc.protos})
			if !strings.HasPrefix(r.Status, "HTTP/1.1 400") || !strings.Contains(r.Body, tc.reason) {
				t.Fatalf("response %q %q, want 400 with %q", r.Status, r.Body, tc.reason)
			}
		})
	}
}

func TestWelcome(t *testing.T) {
	_, url := startServer(t, router.Options{})
	seen := map[string]bool{}
	for range 20 {
		c, err := tryDial(url, "wamp")
		if err != nil {
			t.Fatal(err)
		}
		c.T = t
		var w []any
		c.RecvJSON(&w)
		c.Conn.Close()
		if len(w) != 4 || w[0] != float64(0) || w[2] != float64(1) || w[3] != "tagwamp/"+router.Version {
			t.Fatalf("WELCOME %v", w)
		}
		sid, _ := w[1].(string)
		if len(sid) < 16 || seen[sid] {
			t.Fatalf("session id %q: too short or repeated", sid)
		}
		seen[sid] = true
	}
}

func TestCall(t *testing.T) {
	_, url := startServer(t, router.Options{RPC: testRPC(), CallTimeout: 200 * time.Millisecond})
	c := dial(t, url)
	tests := []struct {
		name, call, want string
	}{
		{"result", `[2,"0.qd4lajti34a","http://example.com/simple/calc#square",23]`, `[3,"0.qd4lajti34a",529]`},
		{"null result", `[2,"n","http://example.com/null"]`, `[3,"n",null]`},
		{"no args", `[2,"a","http://example.com/nargs"]`, `[3,"a",0]`},
		{"single list is one arg", `[2,"a","http://example.com/nargs",[1,2]]`, `[3,"a",1]`},
		{"many args of every type", `[2,"a","http://example.com/echo",null,true,1.5,"s",[1],{"k":"v"}]`,
			`[3,"a",[null,true,1.5,"s",[1],{"k":"v"}]]`},
		{"call id echoed byte for byte", `[2,"\u0041b\/c","http://example.com/null"]`, `[3,"\u0041b\/c",null]`},
		{"handler error with details", `[2,"e","http://example.com/fail"]`,
			`[4,"e","http://example.com/error#fail","it failed",{"code":7}]`},
		{"handler error without details", `[2,"e","http://example.com/fail-nodetails"]`,
			`[4,"e","http://example.com/error#fail","it failed"]`},
		{"bad args", `[2,"e","http://example.com/simple/calc#square","x"]`,
			`[4,"e","http://example.com/error#args","want one number"]`},
		{"unknown procedure", `[2,"u","http://example.com/nope"]`,
			`[4,"u","http://api.wamp.ws/error#NoSuchRPCEndpoint","no procedure registered for http://example.com/nope"]`},
		{"internal error leaks nothing", `[2,"i","http://example.com/internal"]`,
			`[4,"i","http://api.wamp.ws/error#internal","internal error"]`},
		{"panic contained", `[2,"p","http://example.com/panic"]`,
			`[4,"p","http://api.wamp.ws/error#internal","internal error"]`},
		{"unmarshalable details", `[2,"d","http://example.com/bad-details"]`,
			`[4,"d","http://api.wamp.ws/error#internal","internal error"]`},
		{"unmarshalable result", `[2,"r","http://example.com/bad-result"]`,
			`[4,"r","http://api.wamp.ws/error#internal","internal error"]`},
		{"raw JSON result", `[2,"r","http://example.com/raw"]`, `[3,"r",{"raw":true}]`},
		{"args list", `[2,"l","http://example.com/argslist",1, "s" ,{"k":[true,null]},-0.5e3]`,
			`[3,"l",[1,"s",{"k":[true,null]},-0.5e3]]`},
		{"args list of none", `[2,"l","http://example.com/argslist"]`, `[3,"l",[]]`},
		{"args list with a replaced argument", `[2,"l","http://example.com/argslist-replaced",1,2]`, `[3,"l",["new",2]]`},
		{"args list with an invalid argument", `[2,"l","http://example.com/argslist-invalid",1]`,
			`[4,"l","http://api.wamp.ws/error#internal","internal error"]`},
		{"args list with an appended argument", `[2,"l","http://example.com/argslist-appended",1]`,
			`[4,"l","http://api.wamp.ws/error#internal","internal error"]`},
		{"args list deferred", `[2,"l","http://example.com/argslist-deferred",{"a":"b"}]`, `[3,"l",[{"a":"b"}]]`},
		{"timeout", `[2,"t","http://example.com/slow"]`,
			`[4,"t","http://api.wamp.ws/error#timeout","call timed out"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.T = t
			c.Send(tc.call)
			if got := c.Recv(); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestCallNoHandler(t *testing.T) {
	_, url := startServer(t, router.Options{})
	c := dial(t, url)
	c.Send(`[2,"x","http://example.com/any"]`)
	want := `[4,"x","http://api.wamp.ws/error#NoSuchRPCEndpoint","no procedure registered for http://example.com/any"]`
	if got := c.Recv(); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestCallsOutstanding(t *testing.T) {
	_, url := startServer(t, router.Options{RPC: testRPC()})
	c := dial(t, url)
	const n = 200
	for i := range n {
		c.Send(fmt.Sprintf(`[2,"c%d","http://example.com/simple/calc#square",%d]`, i, i))
	}
	got := map[string]float64{}
	for range n {
		var r []any
		c.RecvJSON(&r)
		if r[0] != float64(3) {
			t.Fatalf("reply %v", r)
		}
		id := r[1].(string)
		if _, dup := got[id]; dup {
			t.Fatalf("two replies for %s", id)
		}
		got[id] = r[2].(float64)
	}
	for i := range n {
		if got[fmt.Sprintf("c%d", i)] != float64(i*i) {
			t.Fatalf("call c%d answered %v", i, got[fmt.Sprintf("c%d", i)])
		}
	}
}

func TestPrefix(t *testing.T) {
	_, url := startServer(t, router.Options{RPC: testRPC()})
	c := dial(t, url)
	c.Send(`[1,"calc","http://example.com/simple/calc#"]`)
	if got := c.call(`[2,"1","calc:square",3]`); got[0] != float64(3) || got[2] != float64(9) {
		t.Fatalf("CURIE call: %v", got)
	}
	// Redefinition replaces; an unknown prefix passes through unchanged.
	c.Send(`[1,"calc","http://example.com/"]`)
	if got := c.call(`[2,"2","calc:null"]`); got[0] != float64(3) {
		t.Fatalf("redefined prefix: %v", got)
	}
	got := c.call(`[2,"3","nope:square",3]`)
	if got[0] != float64(4) || got[3] != "no procedure registered for nope:square" {
		t.Fatalf("unknown prefix: %v", got)
	}

	// Topics: the EVENT carries the subscription's string, CURIE resolved.
	sub := dial(t, url)
	sub.Send(`[1,"news","http://example.com/news"]`)
	sub.Send(`[5,"news:?lang=FR"]`)
	pub := dial(t, url)
	pub.Send(`[1,"n","http://example.com/"]`)
	syncSession(t, sub)
	pub.Send(`[7,"n:news?lang=FR","hello"]`)
	if got := sub.Recv(); got != `[8,"http://example.com/news?lang=FR","hello"]` {
		t.Fatalf("event %s", got)
	}
}

// syncSession makes sure every message s sent before was handled: the
// session's messages are handled in order, so a CALL's answer follows them.
func syncSession(t testing.TB, s *wsClient) {
	t.Helper()
	s.Send(`[2,"sync","http://tagwamp.test/sync"]`)
	for {
		m := s.Recv()
		if strings.HasPrefix(m, `[4,"sync"`) || strings.HasPrefix(m, `[3,"sync"`) {
			return
		}
	}
}

func TestPrefixLimits(t *testing.T) {
	_, url := startServer(t, router.Options{})
	t.Run("bad name", func(t *testing.T) {
		c := dial(t, url)
		c.Send(`[1,"a?b=c","http://example.com/"]`)
		c.ExpectClose(1002, "PREFIX")
	})
	t.Run("too many", func(t *testing.T) {
		c := dial(t, url)
		for i := range protocol.MaxPrefixes {
			c.Send(fmt.Sprintf(`[1,"p%d","http://example.com/%d#"]`, i, i))
		}
		c.Send(`[1,"p0","http://example.com/again#"]`) // redefinition is fine
		c.Send(`[1,"one-more","http://example.com/x#"]`)
		c.ExpectClose(1008, "")
	})
}
