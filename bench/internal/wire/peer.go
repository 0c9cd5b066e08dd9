package wire

import (
	"bytes"
	"strconv"
)

// peer speaks centrifuge's JSON protocol (protocol v2): commands are JSON
// objects with an id, the client speaks first with a connect command, and
// the server may put several replies and pushes in one frame, separated by
// newlines. A tag topic maps to a channel: group g is channel "g<g>",
// user i channel "u<i>".
type peer struct{}

func (peer) Path() string           { return "/connection/websocket" }
func (peer) Subprotocols() []string { return nil }

// {"id":1,"connect":{}}
func (peer) AppendHello(dst []byte, mask [4]byte) []byte {
	s := len(dst)
	dst = append(dst, `{"id":1,"connect":{}}`...)
	return frame(dst, s, mask)
}

// {"id":N,"subscribe":{"channel":"..."}}
func (peer) AppendSubscribe(dst []byte, mask [4]byte, id uint32, topic string) []byte {
	s := len(dst)
	dst = appendID(dst, id)
	dst = append(dst, `"subscribe":{"channel":"`...)
	dst = append(dst, topic...)
	dst = append(dst, `"}}`...)
	return frame(dst, s, mask)
}

// AppendBarrier is a no-op: every subscribe has its own reply.
func (peer) AppendBarrier(dst []byte, _ [4]byte, _ uint32) []byte { return dst }

// {"id":N,"publish":{"channel":"...","data":{...}}}; a subscribed
// publisher always receives its own publication.
func (peer) AppendPublish(dst []byte, mask [4]byte, id uint32, topic string, payload []byte, _ bool) []byte {
	s := len(dst)
	dst = appendID(dst, id)
	dst = append(dst, `"publish":{"channel":"`...)
	dst = append(dst, topic...)
	dst = append(dst, `","data":`...)
	dst = append(dst, payload...)
	dst = append(dst, `}}`...)
	return frame(dst, s, mask)
}

// {"id":N,"rpc":{"method":"echo","data":{...}}}
func (peer) AppendCall(dst []byte, mask [4]byte, id uint32, payload []byte) []byte {
	s := len(dst)
	dst = appendID(dst, id)
	dst = append(dst, `"rpc":{"method":"echo","data":`...)
	dst = append(dst, payload...)
	dst = append(dst, `}}`...)
	return frame(dst, s, mask)
}

func appendID(dst []byte, id uint32) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, uint64(id), 10)
	return append(dst, ',')
}

// Split cuts a frame at newlines: centrifuge batches replies and pushes.
func (peer) Split(payload []byte, fn func([]byte)) {
	for len(payload) > 0 {
		i := bytes.IndexByte(payload, '\n')
		if i < 0 {
			fn(payload)
			return
		}
		if i > 0 {
			fn(payload[:i])
		}
		payload = payload[i+1:]
	}
}

var (
	pushPrefix    = []byte(`{"push":`)
	channelPrefix = []byte(`{"push":{"channel":"`)
	pubKey        = []byte(`"pub":{`)
)

// Classify reads the first key: a push or, after the id, the reply's kind.
func (peer) Classify(msg []byte) Kind {
	if bytes.HasPrefix(msg, pushPrefix) {
		// Fast path: {"push":{"channel":"NAME","pub":{ as centrifuge writes
		// it; channel names here have no escapes.
		if bytes.HasPrefix(msg, channelPrefix) {
			rest := msg[len(channelPrefix):]
			if i := bytes.IndexByte(rest, '"'); i >= 0 && bytes.HasPrefix(rest[i+1:], []byte(`,"pub":{`)) {
				return KindEvent
			}
		}
		if bytes.Contains(msg, pubKey) {
			return KindEvent
		}
		return KindOther
	}
	if !bytes.HasPrefix(msg, []byte(`{"id":`)) {
		return KindOther // {} is a ping
	}
	_, rest := digits(msg[6:])
	if len(rest) < 3 || rest[0] != ',' || rest[1] != '"' {
		return KindOther
	}
	rest = rest[2:]
	switch {
	case bytes.HasPrefix(rest, []byte(`rpc"`)):
		return KindResult
	case bytes.HasPrefix(rest, []byte(`subscribe"`)):
		return KindSubscribed
	case bytes.HasPrefix(rest, []byte(`connect"`)):
		return KindHello
	case bytes.HasPrefix(rest, []byte(`error"`)):
		return KindError
	}
	return KindOther
}

func (peer) PersonalTopic(i int) string { return "u" + strconv.Itoa(i) }
func (peer) GroupTopic(g int) string    { return "g" + strconv.Itoa(g) }

// GroupUserTopic is the group's channel: centrifuge channels have no
// tags, and a channel per session would take one publication per
// session, not a fan-out.
func (peer) GroupUserTopic(_, g int) string { return "g" + strconv.Itoa(g) }

// MixedTopics is two channels: the peer has no tags.
func (peer) MixedTopics(i, g int) []string {
	return []string{"mu" + strconv.Itoa(i), "mg" + strconv.Itoa(g)}
}

func (peer) MixedPersonal(i int) string { return "mu" + strconv.Itoa(i) }
func (peer) MixedGroup(g int) string    { return "mg" + strconv.Itoa(g) }

// ShardTopic is two channels, as the peer has no tags: the one every
// session of the shard scenarios joins and its shard's.
func (peer) ShardTopic(g int) string { return "sg" + strconv.Itoa(g) }
func (peer) ShardAll() string        { return "sall" }
func (peer) ShardGroup(g int) string { return "sg" + strconv.Itoa(g) }
