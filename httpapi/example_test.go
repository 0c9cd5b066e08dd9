package httpapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/tagwamp/tagwamp/httpapi"
	"github.com/tagwamp/tagwamp/router"
)

// ExampleNew mounts the API over a router with one key that may publish
// and nothing else.
func ExampleNew() {
	srv := router.New(router.Options{})
	defer srv.Shutdown(context.Background())
	api, err := httpapi.New(httpapi.Config{
		Server: srv,
		Keys: []httpapi.Key{{
			Name:      "newsroom",
			Key:       "k7Qv2yN9tLb4Xw8ZpR3mHc6D",
			Endpoints: []httpapi.Endpoint{httpapi.EndpointPublish},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	post := func(path, body string) {
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer k7Qv2yN9tLb4Xw8ZpR3mHc6D")
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body.String())
	}
	post("/api/publish", `{"tags": {"lang": "FR"}, "message": {"text": "Bonjour"}}`)
	post("/api/call", `{"procedure": "http://example.com/calc#add", "args": [1, 2]}`)
	// Output:
	// 200 {"receivers":0}
	// 403 {"error":{"code":"forbidden","message":"this key does not grant call"}}
}
