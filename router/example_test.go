package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

// serveExample serves srv on a loopback port until stop, which shuts it
// down; it returns the ws:// URL.
func serveExample(srv *router.Server) (url string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	return "ws://" + ln.Addr().String() + "/", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}
}

// A server with one procedure, called by a Go client, then shut down
// gracefully (on SIGTERM, say, in a real program).
func ExampleNew() {
	square := router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		var x float64
		if len(c.Args) != 1 || json.Unmarshal(c.Args[0], &x) != nil {
			return nil, protocol.NewError(protocol.ErrorURIInvalidArgument, "want one number")
		}
		return x * x, nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0") // or srv.ListenAndServe(addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := router.New(router.Options{RPC: square})
	go srv.Serve(ln)

	ctx := context.Background()
	c, err := client.Dial(ctx, "ws://"+ln.Addr().String()+"/")
	if err != nil {
		log.Fatal(err)
	}
	var y float64
	err = c.Call(ctx, "http://example.com/calc#square", &y, 3)
	fmt.Println(y, err)
	c.Close()

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	// Output: 9 <nil>
}

// A backend in the same process publishes to a tag topic: every
// subscription whose tags include user=42 receives it, on any base.
func ExampleServer_Publish() {
	srv := router.New(router.Options{})
	url, stop := serveExample(srv)
	defer stop()
	ctx := context.Background()
	c, err := client.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	events := make(chan string, 1)
	c.Subscribe("http://example.com/news?lang=FR&user=42", func(topic string, event json.RawMessage) {
		events <- topic + " " + string(event)
	})
	c.Call(ctx, "urn:sync", nil) // answered once the SUBSCRIBE is handled

	n, err := srv.Publish("?user=42", []byte(`{"text":"hello"}`))
	fmt.Println(n, err)
	fmt.Println(<-events)
	// Output:
	// 1 <nil>
	// http://example.com/news?lang=FR&user=42 {"text":"hello"}
}

type userKey struct{}

// A handshake filter admits only requests that name a user, and hands the
// user to the session.
func ExampleHandshakeFilterFunc() {
	requireUser := router.HandshakeFilterFunc(func(r *router.Request) error {
		user := r.URL.Query().Get("user")
		if user == "" {
			return &router.HTTPError{Status: http.StatusUnauthorized, Reason: "who are you?"}
		}
		r.SetValue(userKey{}, user)
		return nil
	})
	hello := router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
		return "hello " + s.Value(userKey{}).(string), nil
	})
	url, stop := serveExample(router.New(router.Options{
		Filters: []router.HandshakeFilter{requireUser},
		RPC:     hello,
	}))
	defer stop()

	ctx := context.Background()
	_, err := client.Dial(ctx, url)
	fmt.Println(strings.Contains(fmt.Sprint(err), "401"))
	c, err := client.Dial(ctx, url+"?user=alice")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var greeting string
	c.Call(ctx, "urn:hello", &greeting)
	fmt.Println(greeting)
	// Output:
	// true
	// hello alice
}

// A connection filter decides before any byte is read; this one only
// counts.
func ExampleConnFilterFunc() {
	var accepted atomic.Int32
	count := router.ConnFilterFunc(func(c net.Conn) error {
		accepted.Add(1)
		return nil // an error closes c at once
	})
	url, stop := serveExample(router.New(router.Options{Filters: []router.HandshakeFilter{count}}))
	defer stop()

	c, err := client.Dial(context.Background(), url)
	if err != nil {
		log.Fatal(err)
	}
	c.Close()
	fmt.Println(accepted.Load())
	// Output: 1
}

// RPC middleware wraps the RPC handler: here it keeps procedures under
// urn:admin# from everyone.
func ExampleRPCMiddleware() {
	noAdmin := router.RPCMiddleware(func(next router.RPCHandler) router.RPCHandler {
		return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
			if strings.HasPrefix(c.URI, "urn:admin#") {
				return nil, protocol.NewError(protocol.ErrorURINotAuthorized, "not for you")
			}
			return next.ServeCall(ctx, s, c)
		})
	})
	ok := router.RPCHandlerFunc(func(context.Context, *router.Session, *router.Call) (any, error) {
		return "ok", nil
	})
	url, stop := serveExample(router.New(router.Options{
		RPC:           ok,
		RPCMiddleware: []router.RPCMiddleware{noAdmin},
	}))
	defer stop()

	ctx := context.Background()
	c, err := client.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var res string
	fmt.Println(c.Call(ctx, "urn:app#status", &res), res)
	fmt.Println(c.Call(ctx, "urn:admin#reset", &res))
	// Output:
	// <nil> ok
	// protocol: call error http://api.wamp.ws/error#not-authorized: not for you
}

// A topic policy from functions: nobody publishes to the announcements,
// and every other publication is stamped with its publisher. A nil func
// (here OnSubscribe) allows.
func ExampleTopicFuncs() {
	policy := router.TopicFuncs{
		OnPublish: func(ctx context.Context, s *router.Session, pub *router.Publication) error {
			if base, _ := pub.Tags.Base(); base == "http://example.com/announcements" {
				return errors.New("read-only") // the PUBLISH is dropped
			}
			pub.Event = []byte(`{"from":"` + s.ID() + `","event":` + string(pub.Event) + `}`)
			return nil
		},
	}
	url, stop := serveExample(router.New(router.Options{
		Topics:             []router.TopicHandler{policy},
		DeliverToPublisher: true,
	}))
	defer stop()

	c, err := client.Dial(context.Background(), url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	events := make(chan string, 2)
	for _, topic := range []string{"http://example.com/announcements", "http://example.com/chat"} {
		c.Subscribe(topic, func(topic string, event json.RawMessage) {
			events <- topic + " " + strings.Replace(string(event), c.SessionID(), "<me>", 1)
		})
	}
	c.Publish("http://example.com/announcements", "free beer")
	c.Publish("http://example.com/chat", "hi")
	fmt.Println(<-events)
	// Output: http://example.com/chat {"from":"<me>","event":"hi"}
}

// Session hooks from functions: they see every session open and close.
func ExampleSessionHookFuncs() {
	var open atomic.Int32
	closed := make(chan string, 1)
	hook := router.SessionHookFuncs{
		OnOpened: func(s *router.Session) { open.Add(1) },
		OnClosed: func(s *router.Session) {
			open.Add(-1)
			closed <- s.ID()
		},
	}
	url, stop := serveExample(router.New(router.Options{SessionHooks: []router.SessionHook{hook}}))
	defer stop()

	ctx := context.Background()
	c, err := client.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	c.Call(ctx, "urn:sync", nil) // answered after SessionOpened returned
	fmt.Println("open:", open.Load())
	c.Close()
	fmt.Println("closed the client's session:", <-closed == c.SessionID())
	fmt.Println("open:", open.Load())
	// Output:
	// open: 1
	// closed the client's session: true
	// open: 0
}

// An extension bundles parts that work together; the server layers them
// itself, whatever else the options hold. This one admits a session
// with ?user=, answers urn:whoami with it, and keeps each user to the
// topics tagged with their name.
func ExampleExtension() {
	userOf := func(s *router.Session) string { return s.Value(userKey{}).(string) }
	users := router.Extension{
		Filter: router.HandshakeFilterFunc(func(r *router.Request) error {
			if r.URL.Query().Get("user") == "" {
				return &router.HTTPError{Status: http.StatusUnauthorized, Reason: "who are you?"}
			}
			r.SetValue(userKey{}, r.URL.Query().Get("user"))
			return nil
		}),
		RPC: func(next router.RPCHandler) router.RPCHandler {
			return router.RPCHandlerFunc(func(ctx context.Context, s *router.Session, c *router.Call) (any, error) {
				if c.URI == "urn:whoami" {
					return userOf(s), nil
				}
				return next.ServeCall(ctx, s, c)
			})
		},
		Topics: router.TopicFuncs{
			OnSubscribe: func(ctx context.Context, s *router.Session, sub *router.Subscription) error {
				if u, _ := sub.Tags.Get("user"); u != userOf(s) {
					return errors.New("not your topic")
				}
				return nil
			},
		},
	}
	srv := router.New(router.Options{Extensions: []router.Extension{users}})
	url, stop := serveExample(srv)
	defer stop()

	ctx := context.Background()
	c, err := client.Dial(ctx, url+"?user=alice")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	var who string
	c.Call(ctx, "urn:whoami", &who)
	fmt.Println(who)
	var other string
	fmt.Println(c.Call(ctx, "urn:other", &other))

	ignore := func(string, json.RawMessage) {}
	c.Subscribe("http://example.com/inbox?user=bob", ignore) // dropped
	c.Subscribe("http://example.com/inbox?user=alice", ignore)
	c.Call(ctx, "urn:whoami", &who) // answered once the SUBSCRIBEs are handled
	fmt.Println(srv.Stats().Subscriptions)
	// Output:
	// alice
	// protocol: call error http://api.wamp.ws/error#NoSuchRPCEndpoint: no procedure registered for urn:other
	// 1
}

// CallError tells what a CALL is answered with when its handler fails.
func ExampleCallError() {
	for _, err := range []error{
		protocol.NewError(protocol.ErrorURIInvalidArgument, "want one number"),
		fmt.Errorf("mux: %w", router.ErrNoSuchProcedure),
		context.DeadlineExceeded,
		errors.New("database password rejected"), // never sent
	} {
		e := router.CallError("urn:calc#square", err)
		fmt.Printf("%s %q\n", e.URI, e.Desc)
	}
	// Output:
	// http://api.wamp.ws/error#invalid-argument "want one number"
	// http://api.wamp.ws/error#NoSuchRPCEndpoint "no procedure registered for urn:calc#square"
	// http://api.wamp.ws/error#timeout "call timed out"
	// http://api.wamp.ws/error#internal "internal error"
}
