package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/gobwas/ws"
)

// Kind is what a server message is, as far as the generator cares.
type Kind uint8

// The kinds of server messages.
const (
	KindOther      Kind = iota // anything the scenarios ignore (publish acks, pings)
	KindHello                  // WELCOME (tagwamp) or the connect reply (peer)
	KindEvent                  // EVENT (tagwamp) or a publication push (peer)
	KindResult                 // CALLRESULT (tagwamp) or an RPC reply (peer)
	KindSubscribed             // the peer's subscribe reply; tagwamp sends none
	KindError                  // CALLERROR (tagwamp) or an error reply (peer)
)

// String names the kind for error messages.
func (k Kind) String() string {
	return [...]string{"other", "hello", "event", "result", "subscribed", "error"}[k]
}

// Server names a protocol the generator speaks.
type Server string

// The two servers measured.
const (
	Tagwamp Server = "tagwamp"
	Peer    Server = "peer"
)

// Proto builds one protocol's client messages and classifies its server
// messages. Every Append method appends one whole masked frame to dst.
type Proto interface {
	// Path is the WebSocket URL path; Subprotocols what the upgrade offers.
	Path() string
	Subprotocols() []string
	// AppendHello appends the command a client sends right after the
	// upgrade, or returns dst unchanged when the server speaks first.
	AppendHello(dst []byte, mask [4]byte) []byte
	// AppendSubscribe subscribes to topic; id numbers the request.
	AppendSubscribe(dst []byte, mask [4]byte, id uint32, topic string) []byte
	// AppendBarrier appends a request whose answer (KindResult) proves
	// that everything sent before it was handled, or returns dst
	// unchanged when subscribe replies already prove it.
	AppendBarrier(dst []byte, mask [4]byte, id uint32) []byte
	// AppendPublish publishes payload (a JSON object) to topic; echo asks
	// that the publisher receive its own publication when subscribed.
	AppendPublish(dst []byte, mask [4]byte, id uint32, topic string, payload []byte, echo bool) []byte
	// AppendCall calls the server's echo procedure with payload.
	AppendCall(dst []byte, mask [4]byte, id uint32, payload []byte) []byte
	// Split calls fn with each message of a text frame's payload.
	Split(payload []byte, fn func(msg []byte))
	// Classify tells what msg is.
	Classify(msg []byte) Kind
	// PersonalTopic is session i's own topic; GroupTopic group g's.
	PersonalTopic(i int) string
	GroupTopic(g int) string
	// GroupUserTopic is session i's own topic in group g: a publication
	// to GroupTopic(g) reaches it. tagwamp tags it with the user (one
	// distinct topic string per session); the peer, whose channels have
	// no tags, has no such topic and joins GroupTopic(g) itself.
	GroupUserTopic(i, g int) string
	// MixedTopics are the subscriptions of browser i in group g of the
	// mixed scenario: tagwamp needs one (both tags in one topic), the peer
	// one channel per tag.
	MixedTopics(i, g int) []string
	// MixedPersonal and MixedGroup are where the mixed scenario publishes.
	MixedPersonal(i int) string
	MixedGroup(g int) string
	// ShardTopic is what a session of shard g subscribes to: a tag every
	// session holds and its shard's tag. ShardAll is a tag set every
	// ShardTopic holds, ShardGroup(g) one only shard g's hold.
	ShardTopic(g int) string
	ShardAll() string
	ShardGroup(g int) string
}

// For returns the protocol of server s.
func For(s Server) (Proto, error) {
	switch s {
	case Tagwamp:
		return tagwamp{}, nil
	case Peer:
		return peer{}, nil
	}
	return nil, fmt.Errorf("wire: unknown server %q", s)
}

// AppendFrame appends a masked final text frame carrying payload
// (RFC 6455 §5.2-5.3). The payload is copied and masked in dst.
func AppendFrame(dst []byte, mask [4]byte, payload []byte) []byte {
	dst = appendHeader(dst, mask, len(payload))
	off := len(dst)
	dst = append(dst, payload...)
	ws.Cipher(dst[off:], mask, 0)
	return dst
}

// appendHeader appends a masked text frame header for a payload of n bytes.
func appendHeader(dst []byte, mask [4]byte, n int) []byte {
	dst = append(dst, 0x80|byte(ws.OpText))
	switch {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, mask[:]...)
}

// frame turns dst[start:] (an unframed payload appended by the caller)
// into a masked frame, moving the payload behind its header.
func frame(dst []byte, start int, mask [4]byte) []byte {
	n := len(dst) - start
	var hdr [14]byte
	h := appendHeader(hdr[:0], mask, n)
	dst = append(dst, h...) // grow by the header's length
	copy(dst[start+len(h):], dst[start:start+n])
	copy(dst[start:], h)
	ws.Cipher(dst[start+len(h):], mask, 0)
	return dst
}

// ErrNoTimestamp is returned by ParseStamp for a message without the
// generator's timestamp.
var ErrNoTimestamp = errors.New("wire: no timestamp in message")

// AppendPayload appends the generator's JSON payload: the sender's clock
// in nanoseconds, the sender's number, its sequence number (publications
// of one sender), and pad bytes of padding.
//
//	{"ts":123456789,"pub":3,"seq":17,"p":"xxxx"}
func AppendPayload(dst []byte, ts int64, pub int, seq uint32, pad int) []byte {
	dst = append(dst, `{"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"pub":`...)
	dst = strconv.AppendInt(dst, int64(pub), 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, uint64(seq), 10)
	dst = append(dst, `,"p":"`...)
	for range pad {
		dst = append(dst, 'x')
	}
	return append(dst, `"}`...)
}

var stampKey = []byte(`{"ts":`)

// ParseStamp finds the payload AppendPayload wrote inside msg and returns
// its timestamp, sender and sequence number.
func ParseStamp(msg []byte) (ts int64, pub int, seq uint32, err error) {
	i := bytes.Index(msg, stampKey)
	if i < 0 {
		return 0, 0, 0, ErrNoTimestamp
	}
	b := msg[i+len(stampKey):]
	ts, b = digits(b)
	const pubKey, seqKey = `,"pub":`, `,"seq":`
	if len(b) < len(pubKey) || string(b[:len(pubKey)]) != pubKey {
		return 0, 0, 0, ErrNoTimestamp
	}
	p, b := digits(b[len(pubKey):])
	if len(b) < len(seqKey) || string(b[:len(seqKey)]) != seqKey {
		return 0, 0, 0, ErrNoTimestamp
	}
	q, _ := digits(b[len(seqKey):])
	return ts, int(p), uint32(q), nil
}

// digits parses the decimal digits that start b.
func digits(b []byte) (int64, []byte) {
	var v int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + int64(b[i]-'0')
	}
	return v, b[i:]
}
