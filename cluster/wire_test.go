package cluster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

func mustSet(t testing.TB, topic string) tagindex.Set {
	t.Helper()
	s, err := tagindex.ParseTopic(topic)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEnvelopeRoundTrip(t *testing.T) {
	id := nodeID{1, 2, 3}
	tests := []router.BrokerPublication{
		{Tags: mustSet(t, "news?lang=FR&user=42"), Event: []byte(`{"t":"Bonjour"}`), Publisher: "kY3lq0xJ8dC6m0aT1W9fZg", ExcludePublisher: true},
		{Tags: mustSet(t, "?user=%26%3D%F0%9F%98%80"), Event: []byte(`null`)},
		{Tags: tagindex.Set{}, Event: []byte(`1`), Exclude: [][]byte{[]byte("a"), []byte("b")}},
		{Tags: mustSet(t, "news"), Event: []byte(`[]`), Eligible: nil, HasEligible: true},
		{Tags: mustSet(t, "news"), Event: []byte(`[]`), Eligible: [][]byte{[]byte("x")}, HasEligible: true},
	}
	for _, p := range tests {
		t.Run(p.Tags.String(), func(t *testing.T) {
			var e envelope
			if err := decodeEnvelope(appendEnvelope(nil, id, &p), &e); err != nil {
				t.Fatal(err)
			}
			q := e.pub
			if e.origin != id || !q.Tags.Equal(p.Tags) || !bytes.Equal(q.Event, p.Event) || q.Publisher != p.Publisher ||
				q.ExcludePublisher != p.ExcludePublisher || q.HasEligible != p.HasEligible ||
				len(q.Exclude) != len(p.Exclude) || len(q.Eligible) != len(p.Eligible) {
				t.Fatalf("decoded %+v, want %+v", q, p)
			}
			for i := range p.Exclude {
				if !bytes.Equal(q.Exclude[i], p.Exclude[i]) {
					t.Fatalf("exclude %d = %q", i, q.Exclude[i])
				}
			}
		})
	}
}

func TestEnvelopeBounds(t *testing.T) {
	good := appendEnvelope(nil, nodeID{}, &router.BrokerPublication{Tags: mustSet(t, "news?a=1"), Event: []byte(`1`)})
	hdr := func() []byte { return append([]byte{wireVersion, 0}, make([]byte, 16)...) }
	uv := func(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
	tests := map[string][]byte{
		"empty":              nil,
		"short header":       good[:10],
		"version":            append([]byte{9}, good[1:]...),
		"truncated":          good[:headerLen+3],
		"tag count":          uv(uv(hdr(), 0), maxTags+1),
		"count past the end": uv(uv(hdr(), 0), 200),
		"long string":        uv(hdr(), maxString+1),
		"id count":           uv(uv(uv(hdr(), 0), 0), maxIDs+1),
		"bad key":            append(uv(uv(hdr(), 0), 1), 2, 'a', '?', 1, 'x'),
		"base twice":         append(uv(uv(hdr(), 0), 2), 0, 1, 'a', 0, 1, 'b', 0, 0),
		"empty base":         append(uv(uv(hdr(), 0), 1), 0, 0, 0, 0),
		"base with ?":        append(uv(uv(hdr(), 0), 1), 0, 2, 'a', '?', 0, 0),
		"value not UTF-8":    append(uv(uv(hdr(), 0), 1), 1, 'k', 1, 0xff, 0, 0),
		"too big":            make([]byte, maxWire+1),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			var e envelope
			if err := decodeEnvelope(b, &e); !errors.Is(err, ErrBadMessage) {
				t.Fatalf("decodeEnvelope = %v, want ErrBadMessage", err)
			}
		})
	}
}

func FuzzEnvelope(f *testing.F) {
	f.Add(appendEnvelope(nil, nodeID{}, &router.BrokerPublication{Tags: mustSet(f, "news?a=1"), Event: []byte(`1`),
		Exclude: [][]byte{[]byte("x")}, HasEligible: true}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e envelope
		if decodeEnvelope(b, &e) != nil {
			return
		}
		again := appendEnvelope(nil, e.origin, &e.pub)
		var e2 envelope
		if err := decodeEnvelope(again, &e2); err != nil || !e2.pub.Tags.Equal(e.pub.Tags) || !bytes.Equal(e2.pub.Event, e.pub.Event) {
			t.Fatalf("round trip of a decoded envelope: %v", err)
		}
	})
}

func TestRouteTag(t *testing.T) {
	if _, ok := routeTag(tagindex.Set{}); ok {
		t.Fatal("the empty set has a routing tag")
	}
	if tag, _ := routeTag(mustSet(t, "news")); tag != (tagindex.Tag{Key: tagindex.BaseKey, Value: "news"}) {
		t.Fatalf("routeTag(news) = %v, want the base", tag)
	}
	// The same tag whatever else P holds of the same candidates, and never
	// the base when there is a user tag.
	a, _ := routeTag(mustSet(t, "news?lang=FR&user=42"))
	b, _ := routeTag(mustSet(t, "?user=42&lang=FR"))
	if a != b || a.Key == tagindex.BaseKey {
		t.Fatalf("routeTag = %v and %v", a, b)
	}
	s := tagSubject("tagwamp", a)
	if !strings.HasPrefix(s, "tagwamp.") || len(s) != len("tagwamp.")+32 {
		t.Fatalf("subject %q", s)
	}
	if got := tagSubject("p", router.AnyTag); got != "p.all" {
		t.Fatalf("AnyTag subject %q", got)
	}
}
