package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

func ExampleFunc() {
	var m handlers.Mux
	m.Handle("http://example.com/calc#add", handlers.Func(
		func(ctx context.Context, s *router.Session, xs []float64) (float64, error) {
			var sum float64
			for _, x := range xs {
				sum += x
			}
			return sum, nil
		}))

	// What the router does with [2, "c1", "http://example.com/calc#add", 1, 2.5]:
	res, err := m.ServeCall(context.Background(), nil, &router.Call{
		URI:  "http://example.com/calc#add",
		Args: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`2.5`)},
	})
	fmt.Println(res, err)

	_, err = m.ServeCall(context.Background(), nil, &router.Call{URI: "http://example.com/calc#mul"})
	fmt.Println(errors.Is(err, router.ErrNoSuchProcedure))
	// Output:
	// 3.5 <nil>
	// true
}

func ExampleMux_HandlePrefix() {
	var m handlers.Mux
	m.HandleFunc("http://example.com/admin#reset", func(context.Context, *router.Session, *router.Call) (any, error) {
		return "reset", nil
	})
	m.HandlePrefix("http://example.com/admin#", router.RPCHandlerFunc(
		func(_ context.Context, _ *router.Session, c *router.Call) (any, error) {
			return "admin: " + c.URI, nil
		}))
	for _, uri := range []string{"http://example.com/admin#reset", "http://example.com/admin#stats"} {
		res, _ := m.ServeCall(context.Background(), nil, &router.Call{URI: uri})
		fmt.Println(res)
	}
	// Output:
	// reset
	// admin: http://example.com/admin#stats
}

func ExampleNewIPFilter() {
	f, err := handlers.NewIPFilter([]string{"10.0.0.0/8", "::1"}, []string{"10.66.0.0/16"})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = router.Options{Filters: []router.HandshakeFilter{f}}

	_, err = handlers.NewIPFilter([]string{"10.0.0.0/33"}, nil)
	fmt.Println(err)
	// Output:
	// handlers: ip filter: allow[0] "10.0.0.0/33": not an IP address or CIDR prefix
}

// The built-in procedures are plain RPC handlers: mount them under URIs of
// your own, or all at once under theirs with RegisterBuiltins.
func ExamplePing() {
	var m handlers.Mux
	m.HandleFunc("urn:myapp#alive", handlers.Ping)
	m.HandleFunc("urn:myapp#echo", handlers.Echo)

	res, _ := m.ServeCall(context.Background(), nil, &router.Call{URI: "urn:myapp#alive"})
	fmt.Println(res)
	res, _ = m.ServeCall(context.Background(), nil, &router.Call{
		URI:  "urn:myapp#echo",
		Args: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`"a"`)},
	})
	fmt.Printf("%s\n", res)
	// Output:
	// pong
	// [1,"a"]
}

func ExampleServerInfo() {
	srv := router.New(router.Options{})
	var m handlers.Mux
	m.Handle("urn:myapp#status", handlers.ServerInfo(srv))

	res, _ := m.ServeCall(context.Background(), nil, &router.Call{URI: "urn:myapp#status"})
	info := res.(handlers.ServerInfoResult)
	fmt.Println(info.Server == "tagwamp/"+router.Version, info.Sessions)
	// Output: true 0
}
