package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/protocol"
)

func ExampleTopic() {
	fmt.Println(client.Topic("http://example.com/news", map[string]string{"user": "42", "lang": "FR"}))
	fmt.Println(client.Topic("", map[string]string{"language": "FR"}))
	fmt.Println(client.Topic("http://example.com/chat", map[string]string{"room": "café & co"}))
	// Output:
	// http://example.com/news?lang=FR&user=42
	// ?language=FR
	// http://example.com/chat?room=caf%C3%A9%20%26%20co
}

func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://localhost:8080/",
		client.WithHeader(http.Header{"Origin": {"https://example.com"}}))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	var sum int
	err = c.Call(ctx, "http://example.com/calc#add", &sum, 1, 2)
	var callErr *protocol.Error
	switch {
	case errors.As(err, &callErr):
		log.Printf("add failed: %s %s %v", callErr.URI, callErr.Desc, callErr.Details)
	case err != nil:
		log.Fatal(err)
	}

	c.Prefix("news", "http://example.com/news#")
	c.Subscribe("news:sports", func(topic string, event json.RawMessage) {
		fmt.Println(topic, string(event)) // topic is http://example.com/news#sports
	})
	c.Publish(client.Topic("http://example.com/news#sports", map[string]string{"lang": "FR"}),
		map[string]string{"title": "But !"}, client.ExcludeMe(false))

	<-c.Done()
	log.Print(c.Err())
}
