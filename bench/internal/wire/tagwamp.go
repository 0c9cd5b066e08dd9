package wire

import "strconv"

// tagwamp speaks WAMP v1 (docs/protocol.md#messages): the server sends
// WELCOME first, SUBSCRIBE has no answer, and a CALL to the built-in ping
// procedure is the barrier, since one session's messages are handled in
// order.
type tagwamp struct{}

const (
	tagBase  = "http://bench.tagwamp.dev/"
	procEcho = "http://tagwamp.dev/procedure#echo"
	procPing = "http://tagwamp.dev/procedure#ping"
)

func (tagwamp) Path() string           { return "/" }
func (tagwamp) Subprotocols() []string { return []string{"wamp"} }

func (tagwamp) AppendHello(dst []byte, _ [4]byte) []byte { return dst }

// [5, topicURI]
func (tagwamp) AppendSubscribe(dst []byte, mask [4]byte, _ uint32, topic string) []byte {
	s := len(dst)
	dst = append(dst, `[5,"`...)
	dst = append(dst, topic...)
	dst = append(dst, `"]`...)
	return frame(dst, s, mask)
}

// [2, callID, procURI]
func (tagwamp) AppendBarrier(dst []byte, mask [4]byte, id uint32) []byte {
	s := len(dst)
	dst = append(dst, `[2,"b`...)
	dst = strconv.AppendUint(dst, uint64(id), 36)
	dst = append(dst, `","`+procPing+`"]`...)
	return frame(dst, s, mask)
}

// [7, topicURI, event] or, to receive it too, [7, topicURI, event, false]
func (tagwamp) AppendPublish(dst []byte, mask [4]byte, _ uint32, topic string, payload []byte, echo bool) []byte {
	s := len(dst)
	dst = append(dst, `[7,"`...)
	dst = append(dst, topic...)
	dst = append(dst, `",`...)
	dst = append(dst, payload...)
	if echo {
		dst = append(dst, `,false`...)
	}
	dst = append(dst, ']')
	return frame(dst, s, mask)
}

// [2, callID, procURI, arg]
func (tagwamp) AppendCall(dst []byte, mask [4]byte, id uint32, payload []byte) []byte {
	s := len(dst)
	dst = append(dst, `[2,"`...)
	dst = strconv.AppendUint(dst, uint64(id), 36)
	dst = append(dst, `","`+procEcho+`",`...)
	dst = append(dst, payload...)
	dst = append(dst, ']')
	return frame(dst, s, mask)
}

func (tagwamp) Split(payload []byte, fn func([]byte)) { fn(payload) }

// Classify reads the message type, the first element
// (docs/protocol.md#messages).
func (tagwamp) Classify(msg []byte) Kind {
	if len(msg) < 3 || msg[0] != '[' || msg[2] != ',' {
		return KindOther
	}
	switch msg[1] {
	case '8':
		return KindEvent
	case '3':
		return KindResult
	case '4':
		return KindError
	case '0':
		return KindHello
	}
	return KindOther
}

func (tagwamp) PersonalTopic(i int) string {
	return tagBase + "u?user=" + strconv.Itoa(i)
}

func (tagwamp) GroupTopic(g int) string {
	return tagBase + "t?g=" + strconv.Itoa(g)
}

// GroupUserTopic holds GroupTopic(g)'s tag and the user's: a publication
// to the group reaches it (P ⊆ S, docs/protocol.md#tag-matching), and
// its EVENTs carry this string (docs/protocol.md#event-topic), so the
// server encodes one EVENT per receiver.
func (tagwamp) GroupUserTopic(i, g int) string {
	return tagBase + "t?g=" + strconv.Itoa(g) + "&user=" + strconv.Itoa(i)
}

// MixedTopics is one subscription carrying both tags: it receives what is
// published to the user and what is published to the group (P ⊆ S,
// docs/protocol.md#tag-matching).
func (tagwamp) MixedTopics(i, g int) []string {
	return []string{tagBase + "m?group=" + strconv.Itoa(g) + "&user=" + strconv.Itoa(i)}
}

func (tagwamp) MixedPersonal(i int) string { return tagBase + "m?user=" + strconv.Itoa(i) }
func (tagwamp) MixedGroup(g int) string    { return tagBase + "m?group=" + strconv.Itoa(g) }

func (tagwamp) ShardTopic(g int) string { return tagBase + "s?all=1&shard=" + strconv.Itoa(g) }
func (tagwamp) ShardAll() string        { return tagBase + "s?all=1" }
func (tagwamp) ShardGroup(g int) string { return tagBase + "s?shard=" + strconv.Itoa(g) }
