package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/router"
)

// A server with every plug point: the README's "As a library" is the
// part before srv.ListenAndServe.
func Example() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// Admission: refuse a network, and browser pages of other sites.
	ipf, err := handlers.NewIPFilter(nil, []string{"192.0.2.0/24"})
	if err != nil {
		log.Fatal(err)
	}
	origins, err := handlers.NewOriginCheck([]string{"https://*.example.com"}, false)
	if err != nil {
		log.Fatal(err)
	}

	// Calls: a mux of procedures, each call logged at debug level.
	mux := new(handlers.Mux)
	mux.Handle("http://example.com/calc#add", handlers.Func(
		func(ctx context.Context, s *router.Session, xs []float64) (float64, error) {
			var sum float64
			for _, x := range xs {
				sum += x
			}
			return sum, nil
		}))

	// Topics: clients may read the news; only the backend writes it
	// (srv.Publish does not ask the topic handlers).
	var topics handlers.TopicMux
	topics.Handle("http://example.com/news", router.TopicFuncs{
		OnPublish: func(context.Context, *router.Session, *router.Publication) error {
			return errors.New("read-only")
		},
	})

	// Sessions: a hook sees each one open (and close, with OnClosed).
	hook := router.SessionHookFuncs{
		OnOpened: func(s *router.Session) { logger.Info("session opened", "session", s.ID()) },
	}

	srv := router.New(router.Options{
		Filters:       []router.HandshakeFilter{ipf, origins},
		RPC:           mux,
		RPCMiddleware: []router.RPCMiddleware{handlers.LogCalls(logger)},
		Topics:        []router.TopicHandler{&topics},
		SessionHooks:  []router.SessionHook{hook},
	})
	handlers.RegisterBuiltins(mux, srv)
	// go srv.ListenAndServe("127.0.0.1:8080")

	// What the server does with [2, "c1", "http://example.com/calc#add", 1, 2.5]
	// and with a CALL of the built-in ping:
	for _, c := range []*router.Call{
		{URI: "http://example.com/calc#add", Args: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`2.5`)}},
		{URI: handlers.ProcPing},
	} {
		res, err := mux.ServeCall(context.Background(), nil, c)
		fmt.Println(res, err)
	}
	// Output:
	// 3.5 <nil>
	// pong <nil>
}

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
