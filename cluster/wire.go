package cluster

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"unicode/utf8"

	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// The envelope of one publication on the wire, little more than
// router.BrokerPublication in binary (uvarint lengths, no escaping):
//
//	version   1 byte, wireVersion
//	flags     1 byte: flagExcludePublisher | flagHasEligible
//	origin    16 bytes, the sending node's id
//	publisher uvarint length, bytes (a session id, "" for the server)
//	tags      uvarint count, then each: uvarint length, key, uvarint
//	          length, value (the base under the empty key, first)
//	exclude   uvarint count, then each: uvarint length, id
//	eligible  uvarint count, then each: uvarint length, id (an empty list
//	          and no list differ by flagHasEligible)
//	event     the rest: the raw JSON event
const (
	wireVersion          = 1
	flagExcludePublisher = 1 << 0
	flagHasEligible      = 1 << 1
	headerLen            = 2 + len(nodeID{})
)

// nodeID names one node of the cluster: 128 random bits.
type nodeID [16]byte

// Bounds on what a node accepts from the wire (and sends): a message over
// one of them is rejected and counted (Stats.Rejected), whoever sent it.
const (
	maxTags   = 256     // tags of one publication, the base included
	maxIDs    = 4096    // ids in each of exclude and eligible (protocol.DefaultMaxIDs)
	maxString = 4096    // one key, value or id, in bytes (protocol.DefaultMaxURILen)
	maxWire   = 1 << 20 // one message: NATS's default max_payload
)

// appendEnvelope appends p's envelope, from origin, to dst.
func appendEnvelope(dst []byte, origin nodeID, p *router.BrokerPublication) []byte {
	var flags byte
	if p.ExcludePublisher {
		flags |= flagExcludePublisher
	}
	if p.HasEligible {
		flags |= flagHasEligible
	}
	dst = append(dst, wireVersion, flags)
	dst = append(dst, origin[:]...)
	dst = appendString(dst, p.Publisher)
	dst = appendTags(dst, p.Tags)
	dst = appendIDs(dst, p.Exclude)
	dst = appendIDs(dst, p.Eligible)
	return append(dst, p.Event...)
}

// appendTags appends a tag set: uvarint count, then each tag's key and
// value (the base under the empty key, first).
func appendTags(dst []byte, set tagindex.Set) []byte {
	tags := set.Tags()
	dst = binary.AppendUvarint(dst, uint64(len(tags)))
	for _, t := range tags {
		dst = appendString(dst, t.Key)
		dst = appendString(dst, t.Value)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendIDs(dst []byte, ids [][]byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ids)))
	for _, id := range ids {
		dst = binary.AppendUvarint(dst, uint64(len(id)))
		dst = append(dst, id...)
	}
	return dst
}

// envelope is a decoded message: the publication and who sent it. Its
// byte slices alias the message.
type envelope struct {
	origin nodeID
	pub    router.BrokerPublication
}

// decodeEnvelope decodes b into e, within the bounds above. The tag set
// is checked as tagindex.NewSet checks one (keys are names, values UTF-8,
// no '?' in the base); the event is checked by router.DeliverRemote.
func decodeEnvelope(b []byte, e *envelope) error {
	if len(b) > maxWire {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrBadMessage, len(b), maxWire)
	}
	if len(b) < headerLen {
		return fmt.Errorf("%w: %d bytes, no header", ErrBadMessage, len(b))
	}
	if b[0] != wireVersion {
		return fmt.Errorf("%w: version %d", ErrBadMessage, b[0])
	}
	flags := b[1]
	copy(e.origin[:], b[2:headerLen])
	r := reader{b: b[headerLen:]}
	publisher := r.bytes()
	set, err := r.tags()
	if err != nil {
		return err
	}
	exclude := r.ids()
	eligible := r.ids()
	if r.err != nil {
		return r.err
	}
	if !utf8.Valid(publisher) {
		return fmt.Errorf("%w: publisher is not UTF-8", ErrBadMessage)
	}
	e.pub = router.BrokerPublication{
		Tags:             set,
		Event:            r.b,
		Publisher:        string(publisher),
		ExcludePublisher: flags&flagExcludePublisher != 0,
		Exclude:          exclude,
		Eligible:         eligible,
		HasEligible:      flags&flagHasEligible != 0,
	}
	return nil
}

// reader reads an envelope's fields, remembering the first error.
type reader struct {
	b   []byte
	err error
}

// tags reads a tag set as appendTags writes it, checked as
// tagindex.NewSet checks one (keys are names, values UTF-8, no '?' in the
// base), within maxTags and maxString.
func (r *reader) tags() (tagindex.Set, error) {
	n := r.count(maxTags)
	var base string
	var tags map[string]string
	for i := 0; i < n && r.err == nil; i++ {
		k, v := r.bytes(), r.bytes()
		if len(k) == 0 {
			if i != 0 {
				r.fail("the base is not the first tag")
			}
			base = string(v)
			if base == "" {
				r.fail("an empty base")
			}
			continue
		}
		if tags == nil {
			tags = make(map[string]string, n)
		}
		if _, dup := tags[string(k)]; dup {
			r.fail("a key twice")
		}
		tags[string(k)] = string(v)
	}
	if r.err != nil {
		return tagindex.Set{}, r.err
	}
	set, err := tagindex.NewSet(base, tags)
	if err != nil {
		return tagindex.Set{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return set, nil
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrBadMessage, what)
	}
}

// uvarint reads a length or a count of at most limit.
func (r *reader) uvarint(limit int) int {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("truncated")
		return 0
	}
	if v > uint64(limit) {
		r.fail(fmt.Sprintf("a length or count of %d, at most %d", v, limit))
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

// count reads a count of at most limit items, each at least one byte
// long, so that a count can never promise more than the message holds.
func (r *reader) count(limit int) int {
	n := r.uvarint(limit)
	if n > len(r.b) {
		r.fail("truncated")
		return 0
	}
	return n
}

func (r *reader) bytes() []byte {
	n := r.uvarint(maxString)
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.fail("truncated")
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

// ids reads an id list; an empty one is nil (the flag says whether an
// eligible list was sent).
func (r *reader) ids() [][]byte {
	n := r.count(maxIDs)
	if n == 0 {
		return nil
	}
	ids := make([][]byte, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		ids = append(ids, r.bytes())
	}
	return ids
}

// tagSubject returns the subject of tag under prefix: prefix ".all" for
// router.AnyTag, else prefix "." and the hex of the first 16 bytes of
// SHA-256 of "key=value" (the base has the empty key: "=news"). A key is a
// name and holds no '=', so two tags never share their hashed text, and
// the subject is safe whatever bytes the value holds.
func tagSubject(prefix string, t tagindex.Tag) string {
	if t == router.AnyTag {
		return prefix + ".all"
	}
	sum := tagHash(t)
	return prefix + "." + hex.EncodeToString(sum[:])
}

func tagHash(t tagindex.Tag) [16]byte {
	var buf [128]byte
	b := append(buf[:0], t.Key...)
	b = append(b, '=')
	b = append(b, t.Value...)
	sum := sha256.Sum256(b)
	return [16]byte(sum[:16])
}

// routeTag returns the tag of p whose subject carries a publication with
// tag set p: the user tag of the smallest hash, or the base when p has no
// user tag, and false for the empty set (sent on ".all"). Every
// subscription that p reaches holds every tag of p (docs/protocol.md#tag-matching),
// so the nodes holding such a subscription hold this one and listen on
// its subject. A user tag is preferred because it is usually the more
// selective (user=42 against the base shared by all of a base's
// subscriptions), and the smallest hash makes the choice the same on
// every node.
func routeTag(p tagindex.Set) (tagindex.Tag, bool) {
	tags := p.Tags()
	if len(tags) == 0 {
		return tagindex.Tag{}, false
	}
	best, bestHash := tags[0], [16]byte{}
	found := false
	for _, t := range tags {
		if t.Key == tagindex.BaseKey {
			continue
		}
		h := tagHash(t)
		if !found || string(h[:]) < string(bestHash[:]) {
			best, bestHash, found = t, h, true
		}
	}
	return best, true
}
