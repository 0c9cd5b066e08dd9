package cluster

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// Control messages, beside the publications (see the package doc,
// Presence):
//
//	prefix.nodes     a node's announcement: version, kind (nodeHello,
//	                 nodeBeat, nodeBye), the node's id
//	prefix.presence  a presence request: version, the asker's id, uvarint
//	                 maxIDs, the tag set (appendTags); its reply subject
//	                 gets each node's answer: version, the node's id,
//	                 uvarint sessions, uvarint count of ids, then each id
//	                 (uvarint length, bytes)
const (
	nodeHello = 1 // a node connected: the others answer with nodeBeat
	nodeBeat  = 2 // a node is still there
	nodeBye   = 3 // a node is leaving (Close)
)

func (b *NATS) nodesSubject() string    { return b.opts.SubjectPrefix + ".nodes" }
func (b *NATS) presenceSubject() string { return b.opts.SubjectPrefix + ".presence" }

// startControl subscribes to the control subjects and starts the
// heartbeat goroutine. Their callbacks run on nats.go's goroutines, one
// per subscription.
func (b *NATS) startControl() error {
	s1, err := b.nc.Subscribe(b.nodesSubject(), b.onNode)
	if err != nil {
		return fmt.Errorf("cluster: subscribe %s: %w", b.nodesSubject(), err)
	}
	s2, err := b.nc.Subscribe(b.presenceSubject(), b.onPresence)
	if err != nil {
		s1.Unsubscribe()
		return fmt.Errorf("cluster: subscribe %s: %w", b.presenceSubject(), err)
	}
	b.ctl = append(b.ctl, s1, s2)
	// The server must hold the subscriptions before this node says hello
	// or returns: a node starting meanwhile announces itself at once, and
	// a hello this one missed would wait for its next heartbeat. An error
	// is a connection lost meanwhile: the reconnect handler says hello.
	_ = b.nc.FlushTimeout(time.Second)
	b.announce(nodeHello)
	b.wg.Add(1)
	go b.heartbeat()
	return nil
}

// announce sends this node's kind of announcement, if connected.
func (b *NATS) announce(kind byte) { b.announceOn(b.nc, kind) }

// announceOn is announce on nc, for nats.go's handlers, which may run
// before NewNATS has set b.nc.
func (b *NATS) announceOn(nc *nats.Conn, kind byte) {
	if !nc.IsConnected() {
		return
	}
	var msg [2 + len(nodeID{})]byte
	msg[0], msg[1] = wireVersion, kind
	copy(msg[2:], b.id[:])
	nc.Publish(b.nodesSubject(), msg[:])
}

// heartbeat announces this node every HeartbeatInterval and forgets the
// nodes silent for three of them.
func (b *NATS) heartbeat() {
	defer b.wg.Done()
	t := time.NewTicker(b.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case now := <-t.C:
			b.announce(nodeBeat)
			b.peersMu.Lock()
			for id, seen := range b.peers {
				if now.Sub(seen) > 3*b.opts.HeartbeatInterval {
					delete(b.peers, id)
				}
			}
			b.peersMu.Unlock()
		}
	}
}

// onNode records another node's announcement; a hello is answered with
// a beat, so that the node saying it knows this one at once. Every hello
// is, even from a node already known: a node says hello when it connects,
// from nats.go's connect handler, before it has subscribed to the
// answers, and again once it has (startControl).
func (b *NATS) onNode(m *nats.Msg) {
	if len(m.Data) != 2+len(nodeID{}) || m.Data[0] != wireVersion {
		b.reject(m.Subject, fmt.Errorf("%w: a node announcement of %d bytes", ErrBadMessage, len(m.Data)))
		return
	}
	id := nodeID(m.Data[2:])
	if id == b.id {
		return
	}
	b.peersMu.Lock()
	if m.Data[1] == nodeBye {
		delete(b.peers, id)
	} else {
		b.peers[id] = time.Now()
	}
	b.peersMu.Unlock()
	if m.Data[1] == nodeHello {
		b.announce(nodeBeat)
	}
}

// Nodes returns how many other nodes this one knows now: those that
// announced themselves within the last three heartbeat intervals and did
// not leave.
func (b *NATS) Nodes() int {
	b.peersMu.Lock()
	defer b.peersMu.Unlock()
	return len(b.peers)
}

// onPresence answers another node's presence request with the attached
// server's LocalPresence.
func (b *NATS) onPresence(m *nats.Msg) {
	if len(m.Data) < 1+len(nodeID{}) || m.Data[0] != wireVersion || m.Reply == "" {
		b.reject(m.Subject, fmt.Errorf("%w: a presence request of %d bytes", ErrBadMessage, len(m.Data)))
		return
	}
	r := reader{b: m.Data[1+len(nodeID{}):]}
	max := r.uvarint(maxIDs)
	set, err := r.tags()
	if err == nil && len(r.b) != 0 {
		err = fmt.Errorf("%w: %d bytes after a presence request", ErrBadMessage, len(r.b))
	}
	if err != nil {
		b.reject(m.Subject, err)
		return
	}
	srv := b.srv.Load()
	if srv == nil {
		return
	}
	n, ids := srv.LocalPresence(set, max)
	out := append(make([]byte, 0, headerLen+16+len(ids)*24), wireVersion)
	out = append(out, b.id[:]...)
	out = binary.AppendUvarint(out, uint64(n))
	out = binary.AppendUvarint(out, uint64(len(ids)))
	for _, id := range ids {
		out = appendString(out, id)
	}
	m.Respond(out)
}

// RemotePresence implements router.PresenceBroker: it sends one request
// to every node on prefix.presence and sums the answers until each node
// it knows (Nodes) answered or ctx ends, at most PresenceTimeout. Partial
// reports a known node that did not answer, or a disconnected broker
// (which asks nobody). Each node lists at most min(maxIDs, 4096) ids. Past
// MaxPresenceInFlight requests at once, it asks nobody and returns
// ErrBusy.
func (b *NATS) RemotePresence(ctx context.Context, tags tagindex.Set, max int) (router.PresenceResult, error) {
	var res router.PresenceResult
	if !b.nc.IsConnected() {
		res.Partial = true
		return res, nil
	}
	b.peersMu.Lock()
	pending := make(map[nodeID]bool, len(b.peers))
	for id := range b.peers {
		pending[id] = true
	}
	b.peersMu.Unlock()
	if len(pending) == 0 {
		return res, nil // alone: nobody to ask
	}
	select {
	case b.inflight <- struct{}{}:
		defer func() { <-b.inflight }()
	default:
		return res, ErrBusy
	}
	b.stats.presenceRequests.Add(1)
	ctx, cancel := context.WithTimeout(ctx, b.opts.PresenceTimeout)
	defer cancel()
	inbox := nats.NewInbox()
	sub, err := b.nc.SubscribeSync(inbox)
	if err != nil {
		res.Partial = true
		return res, nil
	}
	defer sub.Unsubscribe()
	req := append(make([]byte, 0, 64), wireVersion)
	req = append(req, b.id[:]...)
	req = binary.AppendUvarint(req, uint64(min(max, maxIDs)))
	req = appendTags(req, tags)
	if err := b.nc.PublishRequest(b.presenceSubject(), inbox, req); err != nil {
		res.Partial = true
		return res, nil
	}
	answered := make(map[nodeID]bool)
	for len(pending) > 0 {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			break // the deadline
		}
		id, n, ids, err := decodePresenceAnswer(m.Data)
		if err != nil {
			b.reject(m.Subject, err)
			continue
		}
		if answered[id] || id == b.id {
			continue
		}
		answered[id] = true
		delete(pending, id)
		res.Nodes++
		res.Sessions += n
		for _, s := range ids {
			if len(res.IDs) < max {
				res.IDs = append(res.IDs, s)
			}
		}
	}
	if len(pending) > 0 {
		res.Partial = true
		b.stats.presencePartial.Add(1)
	}
	return res, nil
}

// decodePresenceAnswer decodes a node's answer to a presence request.
func decodePresenceAnswer(b []byte) (nodeID, int, []string, error) {
	if len(b) < 1+len(nodeID{}) || b[0] != wireVersion || len(b) > maxWire {
		return nodeID{}, 0, nil, fmt.Errorf("%w: a presence answer of %d bytes", ErrBadMessage, len(b))
	}
	id := nodeID(b[1 : 1+len(nodeID{})])
	r := reader{b: b[1+len(nodeID{}):]}
	n := r.uvarint(math.MaxInt32)
	raw := r.ids()
	if r.err == nil && len(r.b) != 0 {
		r.fail("bytes after a presence answer")
	}
	if r.err != nil {
		return nodeID{}, 0, nil, r.err
	}
	ids := make([]string, len(raw))
	for i, s := range raw {
		ids[i] = string(s)
	}
	return id, n, ids, nil
}
