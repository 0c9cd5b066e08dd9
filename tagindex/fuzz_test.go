package tagindex

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzParseTopic checks that ParseTopic never panics, that both forms agree, that a parsed set is
// canonical, and that ParseTopic(s.String()) equals s. Seeds: testdata/fuzz/FuzzParseTopic.
func FuzzParseTopic(f *testing.F) {
	for _, seed := range []string{"", "?", "news", "news?lang=FR&user=42", "?a=1&&b=%41", "news?a=%zz", "n?q=a+b%20c"} {
		f.Add(seed)
	}
	var reused Set
	f.Fuzz(func(t *testing.T, uri string) {
		s, err := ParseTopic(uri)
		rerr := reused.ParseTopic([]byte(uri))
		if err != rerr || !s.Equal(reused) {
			t.Fatalf("forms disagree: %q, %v vs %q, %v", s.Tags(), err, reused.Tags(), rerr)
		}
		if err != nil {
			if s.Len() != 0 || reused.Len() != 0 {
				t.Fatalf("error %v with a non-empty set", err)
			}
			return
		}
		checkCanonical(t, s)
		text := s.String() // may be longer than the topic: read it without limits
		again, err := ParseTopicLimits(text, noLimits)
		if err != nil || !again.Equal(s) {
			t.Fatalf("ParseTopic(%q) = %q, %v; want %q", text, again.Tags(), err, s.Tags())
		}
		if again.String() != text {
			t.Fatalf("String not stable: %q then %q", text, again.String())
		}
		if c := reused.Clone(); !c.Equal(s) {
			t.Fatalf("Clone = %q, want %q", c.Tags(), s.Tags())
		}
	})
}

// FuzzParseJSON checks that ParseJSON never panics, accepts only valid JSON, returns a canonical
// set without base, and that the set survives a round trip through its topic form. Seeds:
// testdata/fuzz/FuzzParseJSON.
func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{`{}`, `{"language":"FR","user":42}`, `{"a":1.5}`, `{"a":1,"a":2}`, `[1]`, `{"a":"x&y=%"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		s, err := ParseJSON(obj)
		if err != nil {
			if s.Len() != 0 {
				t.Fatalf("error %v with a non-empty set", err)
			}
			return
		}
		if !json.Valid(obj) {
			t.Fatalf("ParseJSON accepted invalid JSON %q", obj)
		}
		var m map[string]any
		if err := json.Unmarshal(obj, &m); err != nil || len(m) != s.Len() {
			t.Fatalf("json.Unmarshal: %v, %d keys for %d tags", err, len(m), s.Len())
		}
		if _, ok := s.Base(); ok {
			t.Fatal("JSON set has a base")
		}
		checkCanonical(t, s)
		again, err := ParseTopicLimits(s.String(), noLimits)
		if err != nil || !again.Equal(s) {
			t.Fatalf("ParseTopic(%q) = %q, %v; want %q", s.String(), again.Tags(), err, s.Tags())
		}
	})
}

// noLimits turns every bound of Limits off.
var noLimits = Limits{MaxTags: -1, MaxLen: -1}

// checkCanonical fails if s is not a canonical set.
func checkCanonical(t *testing.T, s Set) {
	t.Helper()
	for i, tag := range s.Tags() {
		if tag.Key == BaseKey {
			if i != 0 || tag.Value == "" {
				t.Fatalf("misplaced or empty base in %q", s.Tags())
			}
			continue
		}
		if !isName(tag.Key) || !utf8.ValidString(tag.Value) {
			t.Fatalf("bad tag %q", tag)
		}
		if i > 0 && s.Tags()[i-1].Key >= tag.Key {
			t.Fatalf("tags out of order: %q", s.Tags())
		}
	}
}
