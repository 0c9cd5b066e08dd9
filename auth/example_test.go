package auth_test

import (
	"fmt"
	"log"
	"time"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/router"
)

// A server where browsers connect with a token their backend signed, and
// may only subscribe to their own user's news.
func Example() {
	a, err := auth.New(auth.Options{
		RequireCredentials: true,
		Applications: []auth.Application{{
			Key:    "application1",
			Secret: "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW",
			TokenPermissions: &auth.Permissions{PubSub: []auth.TopicRule{
				{URI: "http://example.com/news", Sub: true},
			}},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := router.New(router.Options{Extensions: []router.Extension{a.Extension()}})
	_ = srv // srv.ListenAndServe("127.0.0.1:8080")

	// The backend, for user 42: the browser connects with ?token=<tok>.
	tok, err := auth.NewToken("application1", "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW", "user-42",
		map[string]string{"user": "42"}, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(tok) > 0)
	// Output: true
}

// What a WAMP-CRA client computes: the signature of the challenge that
// authreq returned, with the secret, or with a key derived from it when
// the challenge's authextra holds a salt (the server's Application.CRA).
func ExampleSign() {
	key, err := auth.DeriveKey("B4ajW3P7jfWEYPZsQV8mnteHg97G67uW", &auth.SaltParams{Salt: "salt123"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(key))
	fmt.Println(auth.Sign(key, `{"authid":"X","authkey":"application1"}`))
	// Output:
	// Qd55B0iRqtjODVSCnw0Uw3YJMmDRSvuHkczlDvR1hvk=
	// r4BwpLl/xSuznTwFeNXK2a6PJVEOwyWjCbEoEoHYjqQ=
}

// Secrets never print.
func ExampleSecret() {
	s := auth.Secret("B4ajW3P7jfWEYPZsQV8mnteHg97G67uW")
	fmt.Println(s)
	fmt.Printf("%+v\n", auth.Application{Key: "application1", Secret: s})
	// Output:
	// [redacted]
	// {Key:application1 Secret:[redacted] AuthorizeOpen:false Permissions:<nil> TokenPermissions:<nil> CRA:<nil>}
}
