package cluster_test

import (
	"context"
	"log"

	"github.com/tagwamp/tagwamp/cluster"
	"github.com/tagwamp/tagwamp/router"
)

// A node of a cluster: the broker first, then the server that uses it,
// attached before it serves; the broker is closed after the server.
func ExampleNewNATS() {
	b, err := cluster.NewNATS(cluster.Options{URLs: []string{"nats://127.0.0.1:4222"}})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	srv := router.New(router.Options{Broker: b})
	b.Attach(srv)
	go srv.ListenAndServe("127.0.0.1:8080")
	// ... until it is time to stop:
	srv.Shutdown(context.Background())
}
