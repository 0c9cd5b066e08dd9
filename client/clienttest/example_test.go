package clienttest_test

import (
	"fmt"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/client/clienttest"
)

// PowerfulService is the code under test. It publishes through a
// client.Publisher: a *client.Client in production.
type PowerfulService struct {
	Pub client.Publisher
}

// ServiceMethod publishes three messages to tag topics without a base, which
// reach every subscription holding the tags (docs/protocol.md#tag-matching).
func (s *PowerfulService) ServiceMethod() error {
	for _, m := range []struct {
		msg  string
		tags map[string]string
	}{
		{"Message 0.", map[string]string{"tag0": "tag0Value"}},
		{"Message 1.", map[string]string{"tag1": "tag0Value"}},
		{"Message 2.", map[string]string{"tag0": "tag0Value", "tag1": "tag1Value"}},
	} {
		if err := s.Pub.Publish(client.Topic("", m.tags), m.msg); err != nil {
			return err
		}
	}
	return nil
}

// The test replaces the real client with a clienttest.Publisher and checks
// which publications were made, as Gomoob's WebSocketClientMock does in PHP.
func Example() {
	pub := &clienttest.Publisher{}
	svc := &PowerfulService{Pub: pub}
	if err := svc.ServiceMethod(); err != nil {
		fmt.Println(err)
	}

	found := pub.FindByTags(map[string]string{"tag0": "tag0Value"})
	fmt.Println(len(found), "publications with tag0=tag0Value:")
	for _, p := range found {
		fmt.Println(p.Topic, string(p.Event))
	}
	// Output:
	// 2 publications with tag0=tag0Value:
	// ?tag0=tag0Value "Message 0."
	// ?tag0=tag0Value&tag1=tag1Value "Message 2."
}
