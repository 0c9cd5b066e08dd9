package router_test

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// A server with one procedure, shut down gracefully on an interrupt.
func ExampleNew() {
	square := router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		var x float64
		if len(c.Args) != 1 || json.Unmarshal(c.Args[0], &x) != nil {
			return nil, protocol.NewError(protocol.ErrorURIInvalidArgument, "want one number")
		}
		return x * x, nil
	})
	srv := router.New(router.Options{
		RPC:    square,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe("127.0.0.1:8080"); err != router.ErrServerClosed {
		log.Fatal(err)
	}
}

// A backend in the same process publishes to a tag topic: every
// subscription whose tags include user=42 receives it, on any base.
func ExampleServer_Publish() {
	srv := router.New(router.Options{})
	n, err := srv.Publish("?user=42", []byte(`{"text":"hello"}`))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("delivered to %d subscriptions", n)
}
