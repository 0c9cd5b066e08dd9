package forward_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// BenchmarkForwardedCall measures, in one run, the round trip of a WAMP
// CALL answered by the router's own handler ("built-in") and of one
// forwarded to an HTTP service on loopback ("forwarded"): what a forward
// route adds to a call (the HTTP request and its JSON envelope).
func BenchmarkForwardedCall(b *testing.B) {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"result": 5}`)
	}))
	defer svc.Close()
	fw, err := forward.New(forward.Options{Routes: []forward.Route{{Prefix: "http://example.com/app#", URL: svc.URL}}})
	if err != nil {
		b.Fatal(err)
	}
	defer fw.Close()
	srv := router.New(router.Options{
		RPC:         router.RPCHandlerFunc(func(context.Context, *router.Session, *router.Call) (any, error) { return 5, nil }),
		Extensions:  []router.Extension{fw.Extension()},
		MessageRate: router.RateLimit{PerSecond: -1},
		ByteRate:    router.RateLimit{PerSecond: -1},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	c := wstest.Dial(b, "ws://"+ln.Addr().String()+"/", wstest.Options{})
	for _, bc := range []struct{ name, uri string }{
		{"built-in", "http://example.com/local#add"},
		{"forwarded", "http://example.com/app#add"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			frame := wstest.MaskedFrame(ws.OpText, `[2,"c","`+bc.uri+`",2,3]`)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Conn.Write(frame); err != nil {
					b.Fatal(err)
				}
				if m := c.Recv(); m != `[3,"c",5]` {
					b.Fatalf("answer %s", m)
				}
			}
		})
	}
}
