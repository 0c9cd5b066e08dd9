// Package cluster joins tagwamp servers into one cluster over NATS: a
// publication made on any node reaches the matching subscriptions of
// every node (docs/protocol.md#tag-matching), with its PUBLISH options
// (docs/protocol.md#publish-options), each EVENT carrying the receiving
// subscription's own topic (docs/protocol.md#event-topic).
//
//	b, err := cluster.NewNATS(cluster.Options{URLs: []string{"nats://10.0.0.5:4222"}})
//	if err != nil { ... }
//	defer b.Close()
//	srv := router.New(router.Options{Broker: b})
//	b.Attach(srv)
//	go srv.ListenAndServe(":8080")
//
// NATS is the package's only dependency on nats.go; the router knows only
// its small router.Broker interface.
//
// # Routing by interest
//
// A publication with tag set P reaches a subscription with set S when
// P ⊆ S, so a node concerned by it holds, among its subscriptions' tags,
// every tag of P. Each node listens on one subject per tag its
// subscriptions hold (router.Broker.Interest), prefix.<hex of 16 bytes of
// SHA-256 of "key=value">, and on prefix.all while it has any
// subscription. A publication is sent once, on the subject of one tag of
// P chosen the same way on every node (the user tag with the smallest
// hash, else the base), or on prefix.all when P is empty. So every node
// with a matching subscription receives it exactly once, and a node with
// none of P's chosen tag receives nothing; on arrival
// router.Server.DeliverRemote matches exactly, as for a local publication.
//
// # Order
//
// A publisher's publications reach every receiver in publication order
// (docs/protocol.md#ordering). The router hands them over one at a time
// on the worker serving the publisher; they go out, in that order, on
// this node's one NATS connection (nats.go writes a connection's
// messages in the order of the Publish calls). A NATS server forwards
// the messages of one connection in the order it read them, and writes
// those for one receiving connection in that order too, whatever their
// subjects. On the receiving node every subscription shares one channel
// (nats.go ChanSubscribe), which nats.go's one reader goroutine fills in
// arrival order and one goroutine of this package drains into
// DeliverRemote: a callback per subscription would run on a goroutine
// per subscription and could reorder two publications sent on two
// subjects. The same holds through a cluster of NATS servers joined by
// one route per pair of servers.
//
// # Faults
//
// Local delivery never waits for NATS: Publish only appends to nats.go's
// buffer, flushed by its own goroutine. While the connection is down,
// publications are not buffered (they would arrive late and in a burst):
// they are counted in Stats.Unforwarded, and reach this node's
// subscribers only. nats.go reconnects forever, the delay doubling from
// Options.ReconnectWait to MaxReconnectWait, and subscribes again on its
// own to every subject, so interest survives the outage; Connected
// reports false meanwhile, and router.Server.Ready reports
// router.ErrBrokerDisconnected.
//
// # Presence
//
// NATS implements router.PresenceBroker, so that
// router.Server.ClusterPresence (the HTTP API's /api/presence) counts the
// sessions of every node. Each node announces itself on prefix.nodes when
// it connects (the others answer at once, so that it knows them), every
// Options.HeartbeatInterval, and when it closes; a node silent for three
// intervals is forgotten. A presence request goes once to every node on
// prefix.presence, with a reply subject of its own; each node answers
// with its router.Server.LocalPresence (at most 4096 ids), and the asker
// sums the answers until every node it knows has answered or
// Options.PresenceTimeout passes (Partial then). Control messages are not
// publications: they are not counted in Stats.Received.
//
// # Wire format and bounds
//
// One message is one publication: a binary envelope (wire.go) with the
// sending node's id, the publisher's session id, the tags as key/value
// pairs (the base under the empty key), the event's raw JSON, and the
// exclude and eligible lists (no eligible list and an empty one differ).
// What a node accepts is bounded: 1 MiB per message (NATS's default
// max_payload), 256 tags, 4096 ids per list, 4096 bytes per key, value
// or id; anything else is rejected and counted (Stats.Rejected).
//
// # Concurrency
//
// All methods are safe for concurrent use. Interest and Publish never
// block on the network, as router.Broker requires: subscriptions are
// changed by a goroutine of the broker's own. Publish's argument is
// borrowed until it returns: the envelope is encoded into a pooled buffer
// that nats.go copies.
package cluster
