package tagindex

import (
	"errors"
	"slices"
	"testing"
)

// tags is shorthand for building the expected tags of a test case.
func tags(kv ...string) []Tag {
	var ts []Tag
	for i := 0; i < len(kv); i += 2 {
		ts = append(ts, Tag{kv[i], kv[i+1]})
	}
	return ts
}

func TestParseTopic(t *testing.T) {
	tests := []struct {
		name string
		uri  string
		want []Tag // nil for the empty set
		err  error
	}{
		{"spec example", "http://example.com/news?lang=FR&user=42", tags("", "http://example.com/news", "lang", "FR", "user", "42"), nil},
		{"base only", "http://example.com/news", tags("", "http://example.com/news"), nil},
		{"base with fragment", "http://example.com/simple#topic", tags("", "http://example.com/simple#topic"), nil},
		{"base is not decoded", "news%20x", tags("", "news%20x"), nil},
		{"base with bad escape is kept", "n%zz", tags("", "n%zz"), nil},
		{"empty", "", nil, nil},
		{"bare question mark", "?", nil, nil},
		{"bare trailing question mark", "news?", tags("", "news"), nil},
		{"tags only", "?user=42", tags("user", "42"), nil},
		{"sorted by key", "news?b=2&a=1", tags("", "news", "a", "1", "b", "2"), nil},
		{"empty value", "news?a=", tags("", "news", "a", ""), nil},
		{"value with equals", "news?a=b=c", tags("", "news", "a", "b=c"), nil},
		{"value with question mark", "news?a=b?c", tags("", "news", "a", "b?c"), nil},
		{"double ampersand", "news?a=1&&b=2", tags("", "news", "a", "1", "b", "2"), nil},
		{"trailing ampersand", "news?a=1&", tags("", "news", "a", "1"), nil},
		{"leading ampersand", "news?&a=1", tags("", "news", "a", "1"), nil},
		{"only ampersands", "news?&&", tags("", "news"), nil},
		{"percent-decoded value", "news?city=Z%C3%BCrich", tags("", "news", "city", "Zürich"), nil},
		{"lower-case hex", "news?a=%2b%2F", tags("", "news", "a", "+/"), nil},
		{"encoded ampersand and equals", "news?a=x%26y%3Dz", tags("", "news", "a", "x&y=z"), nil},
		{"plus stays plus", "news?q=a+b", tags("", "news", "q", "a+b"), nil},
		{"encoded space", "news?q=a%20b", tags("", "news", "q", "a b"), nil},
		{"raw UTF-8 value", "news?city=Zürich", tags("", "news", "city", "Zürich"), nil},
		{"percent-decoded key", "news?l%61ng=FR", tags("", "news", "lang", "FR"), nil},
		{"key characters", "news?a_b-c.D9=1", tags("", "news", "a_b-c.D9", "1"), nil},
		{"encoded percent", "news?a=100%25", tags("", "news", "a", "100%"), nil},
		{"no equals", "news?lang", nil, ErrNoEquals},
		{"no equals after good pair", "news?a=1&b", nil, ErrNoEquals},
		{"empty key", "news?=1", nil, ErrBadKey},
		{"key with space", "news?a b=1", nil, ErrBadKey},
		{"key with encoded space", "news?a%20b=1", nil, ErrBadKey},
		{"key with plus", "news?a+b=1", nil, ErrBadKey},
		{"non-ASCII key", "news?ü=1", nil, ErrBadKey},
		{"duplicate key", "news?a=1&a=2", nil, ErrDuplicateKey},
		{"duplicate key same value", "news?a=1&b=2&a=1", nil, ErrDuplicateKey},
		{"duplicate key by escape", "news?a=1&%61=1", nil, ErrDuplicateKey},
		{"truncated escape", "news?a=%2", nil, ErrBadEscape},
		{"lone percent", "news?a=%", nil, ErrBadEscape},
		{"non-hex escape", "news?a=%zz", nil, ErrBadEscape},
		{"bad escape in key", "news?%g1=1", nil, ErrBadEscape},
		{"escape cut by ampersand", "news?a=%2&b=1", nil, ErrBadEscape},
		{"invalid UTF-8 by escape", "news?a=%ff", nil, ErrBadUTF8},
		{"truncated UTF-8 by escape", "news?a=%C3", nil, ErrBadUTF8},
	}
	var reused Set
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseTopic(tt.uri)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseTopic(%q) error = %v, want %v", tt.uri, err, tt.err)
			}
			if got := s.Tags(); !slices.Equal(got, tt.want) {
				t.Fatalf("ParseTopic(%q) = %q, want %q", tt.uri, got, tt.want)
			}
			err = reused.ParseTopic([]byte(tt.uri))
			if !errors.Is(err, tt.err) {
				t.Fatalf("(*Set).ParseTopic(%q) error = %v, want %v", tt.uri, err, tt.err)
			}
			if got := reused.Tags(); !slices.Equal(got, tt.want) {
				t.Fatalf("(*Set).ParseTopic(%q) = %q, want %q", tt.uri, got, tt.want)
			}
			if err != nil {
				return
			}
			if again, err := ParseTopic(s.String()); err != nil || !again.Equal(s) {
				t.Fatalf("ParseTopic(%q) = %q, %v; want %q", s.String(), again.Tags(), err, s.Tags())
			}
		})
	}
}

func TestCanonicalEquality(t *testing.T) {
	tests := []struct {
		name  string
		a, b  func() (Set, error)
		equal bool
	}{
		{"query order", topic("news?a=1&b=2"), topic("news?b=2&a=1"), true},
		{"escaped and plain", topic("news?a=x"), topic("news?a=%78"), true},
		{"topic and JSON integer", topic("?user=42"), jsonSet(`{"user":42}`), true},
		{"topic and JSON string", topic("?user=42"), jsonSet(`{"user":"42"}`), true},
		{"topic and NewSet", topic("news?lang=FR&user=42"), newSet("news", map[string]string{"user": "42", "lang": "FR"}), true},
		{"JSON order", jsonSet(`{"a":"1","b":2}`), jsonSet(`{"b":2,"a":"1"}`), true},
		{"base matters", topic("news?a=1"), topic("?a=1"), false},
		{"plus is not space", topic("?q=a+b"), topic("?q=a%20b"), false},
		{"value matters", topic("news?lang=FR"), topic("news?lang=EN"), false},
		{"empty topic and empty JSON", topic(""), jsonSet(`{}`), true},
		{"bare question mark and zero", topic("?"), func() (Set, error) { return Set{}, nil }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.a()
			if err != nil {
				t.Fatal(err)
			}
			b, err := tt.b()
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Equal(b); got != tt.equal {
				t.Fatalf("%q.Equal(%q) = %v, want %v", a.Tags(), b.Tags(), got, tt.equal)
			}
			if got := a.String() == b.String(); got != tt.equal {
				t.Fatalf("String: %q vs %q", a.String(), b.String())
			}
		})
	}
}

func topic(uri string) func() (Set, error) { return func() (Set, error) { return ParseTopic(uri) } }
func jsonSet(obj string) func() (Set, error) {
	return func() (Set, error) { return ParseJSON([]byte(obj)) }
}
func newSet(base string, m map[string]string) func() (Set, error) {
	return func() (Set, error) { return NewSet(base, m) }
}

func TestParseJSON(t *testing.T) {
	tests := []struct {
		name string
		obj  string
		want []Tag
		err  error
	}{
		{"spec example", `{"language":"FR","user":42}`, tags("language", "FR", "user", "42"), nil},
		{"empty object", `{}`, nil, nil},
		{"whitespace", " \n{ \"a\" : \"x\" }\t", tags("a", "x"), nil},
		{"negative integer", `{"a":-7}`, tags("a", "-7"), nil},
		{"zero", `{"a":0}`, tags("a", "0"), nil},
		{"minus zero", `{"a":-0}`, tags("a", "0"), nil},
		{"big integer", `{"a":123456789012345678901234567890}`, tags("a", "123456789012345678901234567890"), nil},
		{"empty string", `{"a":""}`, tags("a", ""), nil},
		{"escaped string", `{"a":"x\u00fc\n"}`, tags("a", "xü\n"), nil},
		{"escaped key", `{"us\u0065r":1}`, tags("user", "1"), nil},
		{"string with query characters", `{"a":"x&y=z+%"}`, tags("a", "x&y=z+%"), nil},
		{"sorted", `{"b":1,"a":2}`, tags("a", "2", "b", "1"), nil},
		{"float", `{"a":1.5}`, nil, ErrBadValue},
		{"integral float", `{"a":1.0}`, nil, ErrBadValue},
		{"exponent", `{"a":1e3}`, nil, ErrBadValue},
		{"true", `{"a":true}`, nil, ErrBadValue},
		{"false", `{"a":false}`, nil, ErrBadValue},
		{"null", `{"a":null}`, nil, ErrBadValue},
		{"array", `{"a":[1]}`, nil, ErrBadValue},
		{"object", `{"a":{"b":1}}`, nil, ErrBadValue},
		{"duplicate key", `{"a":1,"a":2}`, nil, ErrDuplicateKey},
		{"duplicate key same value", `{"a":1,"b":1,"a":1}`, nil, ErrDuplicateKey},
		{"duplicate key string and integer", `{"a":1,"a":"1"}`, nil, ErrDuplicateKey},
		{"empty key", `{"":1}`, nil, ErrBadKey},
		{"key with space", `{"a b":1}`, nil, ErrBadKey},
		{"non-ASCII key", `{"ü":1}`, nil, ErrBadKey},
		{"array", `[1]`, nil, ErrNotObject},
		{"string", `"a"`, nil, ErrNotObject},
		{"number", `1`, nil, ErrNotObject},
		{"null", `null`, nil, ErrNotObject},
		{"empty input", ``, nil, ErrNotObject},
		{"truncated", `{"a":1`, nil, ErrNotObject},
		{"trailing comma", `{"a":1,}`, nil, ErrNotObject},
		{"trailing data", `{"a":1} x`, nil, ErrNotObject},
		{"two objects", `{}{}`, nil, ErrNotObject},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", nil, ErrNotObject},
		{"missing colon", `{"a" 1}`, nil, ErrNotObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseJSON([]byte(tt.obj))
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseJSON(%q) error = %v, want %v", tt.obj, err, tt.err)
			}
			if got := s.Tags(); !slices.Equal(got, tt.want) {
				t.Fatalf("ParseJSON(%q) = %q, want %q", tt.obj, got, tt.want)
			}
			if _, ok := s.Base(); ok {
				t.Fatalf("ParseJSON(%q) has a base", tt.obj)
			}
			if err == nil {
				if again, err := ParseTopic(s.String()); err != nil || !again.Equal(s) {
					t.Fatalf("ParseTopic(%q) = %q, %v; want %q", s.String(), again.Tags(), err, s.Tags())
				}
			}
		})
	}
}

func TestNewSet(t *testing.T) {
	tests := []struct {
		name string
		base string
		tags map[string]string
		want []Tag
		err  error
	}{
		{"base and tags", "news", map[string]string{"user": "42", "lang": "FR"}, tags("", "news", "lang", "FR", "user", "42"), nil},
		{"base only", "news", nil, tags("", "news"), nil},
		{"tags only", "", map[string]string{"a": ""}, tags("a", ""), nil},
		{"empty", "", nil, nil, nil},
		{"base with question mark", "news?a=1", nil, nil, ErrBadBase},
		{"empty key", "news", map[string]string{"": "x"}, nil, ErrBadKey},
		{"bad key", "news", map[string]string{"a=b": "x"}, nil, ErrBadKey},
		{"invalid UTF-8", "news", map[string]string{"a": "\xff"}, nil, ErrBadUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSet(tt.base, tt.tags)
			if !errors.Is(err, tt.err) {
				t.Fatalf("NewSet error = %v, want %v", err, tt.err)
			}
			if got := s.Tags(); !slices.Equal(got, tt.want) {
				t.Fatalf("NewSet = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSetAccessors(t *testing.T) {
	s, err := ParseTopic("news?lang=FR&user=42&e=")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key   string
		value string
		ok    bool
	}{
		{BaseKey, "news", true},
		{"lang", "FR", true},
		{"user", "42", true},
		{"e", "", true},
		{"a", "", false},
		{"zzz", "", false},
	}
	for _, tt := range tests {
		if v, ok := s.Get(tt.key); v != tt.value || ok != tt.ok {
			t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.key, v, ok, tt.value, tt.ok)
		}
	}
	if b, ok := s.Base(); b != "news" || !ok {
		t.Errorf("Base() = %q, %v", b, ok)
	}
	if n := s.Len(); n != 4 {
		t.Errorf("Len() = %d, want 4", n)
	}
	if got, want := s.String(), "news?e=&lang=FR&user=42"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	var zero Set
	if b, ok := zero.Base(); b != "" || ok || zero.Len() != 0 || zero.String() != "" || len(zero.Tags()) != 0 {
		t.Errorf("zero Set is not empty")
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		base string
		tags map[string]string
		want string
	}{
		{"", nil, ""},
		{"news", nil, "news"},
		{"", map[string]string{"a": "1"}, "?a=1"},
		{"news", map[string]string{"b": "2", "a": "1"}, "news?a=1&b=2"},
		{"n", map[string]string{"q": "a+b c&d=e%f"}, "n?q=a%2Bb%20c%26d%3De%25f"},
		{"n", map[string]string{"q": "ü"}, "n?q=%C3%BC"},
		{"n", map[string]string{"q": "a-b_c.d~e!$'()*,;:@/?"}, "n?q=a-b_c.d~e!$'()*,;:@/?"},
		{"n", map[string]string{"q": "#\"<>[]\\^`{|}\x00\x7f"}, "n?q=%23%22%3C%3E%5B%5D%5C%5E%60%7B%7C%7D%00%7F"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			s, err := NewSet(tt.base, tt.tags)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			if again, err := ParseTopic(tt.want); err != nil || !again.Equal(s) {
				t.Fatalf("ParseTopic(%q) = %q, %v", tt.want, again.Tags(), err)
			}
		})
	}
}

func TestSubsetOf(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "news?a=1", true},
		{"news", "news", true},
		{"news", "news?a=1", true},
		{"news?a=1", "news", false},
		{"news?a=1", "news?a=1&b=2", true},
		{"news?a=1", "news?a=2&b=1", false},
		{"?a=1", "news?a=1", true},
		{"?a=1", "?a=1", true},
		{"news?a=1", "?a=1", false},
		{"news?b=2", "news?a=1&b=2&c=3", true},
		{"news?a=1&c=3", "news?a=1&b=2&c=3", true},
		{"news?a=1&d=3", "news?a=1&b=2&c=3", false},
		{"sport", "news", false},
	}
	for _, tt := range tests {
		t.Run(tt.p+" in "+tt.s, func(t *testing.T) {
			p, err1 := ParseTopic(tt.p)
			s, err2 := ParseTopic(tt.s)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if got := p.SubsetOf(s); got != tt.want {
				t.Fatalf("SubsetOf = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReuseAndClone(t *testing.T) {
	var s Set
	if err := s.ParseTopic([]byte("news?lang=FR&user=42")); err != nil {
		t.Fatal(err)
	}
	kept := s.Clone()
	if err := s.ParseTopic([]byte("sport?lang=EN&user=77")); err != nil {
		t.Fatal(err)
	}
	if got := kept.String(); got != "news?lang=FR&user=42" {
		t.Fatalf("clone changed: %q", got)
	}
	// An owned set's storage is never overwritten by parsing into a copy of it.
	owned, _ := ParseTopic("news?lang=FR")
	cp := owned
	if err := cp.ParseTopic([]byte("other?lang=EN")); err != nil {
		t.Fatal(err)
	}
	if got := owned.String(); got != "news?lang=FR" {
		t.Fatalf("owned set changed: %q", got)
	}
	// A failed parse leaves the set empty.
	if err := s.ParseTopic([]byte("news?a=1&a=2")); err == nil || s.Len() != 0 {
		t.Fatalf("failed parse: %v, Len %d", err, s.Len())
	}
	s.Reset()
	if s.Len() != 0 {
		t.Fatal("Reset did not empty the set")
	}
	if c := (Set{}).Clone(); c.Len() != 0 {
		t.Fatal("clone of the empty set is not empty")
	}
}
