package forward_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tagwamp/tagwamp/forward"
	"github.com/tagwamp/tagwamp/router"
)

// A service that adds, in any language: here a Go handler reads the
// call tagwamp POSTs and answers {"result": ...}.
func Example() {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // {"procedure": ..., "args": [2, 3], "session": {...}}
		io.WriteString(w, `{"result": 5}`)
	}))
	defer svc.Close()

	fw, err := forward.New(forward.Options{
		Routes: []forward.Route{{Prefix: "http://example.com/app#", URL: svc.URL}},
	})
	if err != nil {
		panic(err)
	}
	defer fw.Close()
	srv := router.New(router.Options{Extensions: []router.Extension{fw.Extension()}})

	// What a WAMP client's CALL gets; here through the backend session.
	res, cerr := srv.CallAsBackend(context.Background(), "http://example.com/app#add", nil)
	fmt.Println(string(res), cerr == nil)
	// Output: 5 true
}
