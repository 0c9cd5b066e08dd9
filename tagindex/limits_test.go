package tagindex

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// query returns n pairs k0=v&k1=v..., joined by sep.
func query(n int, sep string) string {
	pairs := make([]string, n)
	for i := range pairs {
		pairs[i] = fmt.Sprintf("k%d=v", i)
	}
	return strings.Join(pairs, sep)
}

// object returns a JSON object of n tags.
func object(n int) string {
	pairs := make([]string, n)
	for i := range pairs {
		pairs[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	return "{" + strings.Join(pairs, ",") + "}"
}

// TestLimitsTopic checks the bounds of ParseTopic, in both forms: a topic at
// a limit parses, one over fails with the limit's error, and empty pairs and
// the base do not count as tags.
func TestLimitsTopic(t *testing.T) {
	long := "news?a=" + strings.Repeat("x", MaxTopicLen-len("news?a="))
	tests := []struct {
		name string
		uri  string
		l    Limits
		tags int // user tags when it parses
		err  error
	}{
		{"tags/at", "news?" + query(MaxTags, "&"), Limits{}, MaxTags, nil},
		{"tags/over", "news?" + query(MaxTags+1, "&"), Limits{}, 0, ErrTooManyTags},
		{"tags/no-base/over", "?" + query(MaxTags+1, "&"), Limits{}, 0, ErrTooManyTags},
		{"tags/empty-pairs-free", "news?" + query(MaxTags, "&&&"), Limits{}, MaxTags, nil},
		{"tags/over-with-empty-pairs", "news?&&" + query(MaxTags+1, "&&") + "&", Limits{}, 0, ErrTooManyTags},
		{"tags/over-before-bad-escape", "news?" + query(MaxTags+1, "&") + "&a=%zz", Limits{}, 0, ErrTooManyTags},
		{"tags/custom/at", "n?" + query(2, "&"), Limits{MaxTags: 2}, 2, nil},
		{"tags/custom/over", "n?" + query(3, "&"), Limits{MaxTags: 2}, 0, ErrTooManyTags},
		{"tags/no-limit", "n?" + query(500, "&"), Limits{MaxTags: -1, MaxLen: -1}, 500, nil},
		{"len/at", long, Limits{}, 1, nil},
		{"len/over", long + "x", Limits{}, 0, ErrTooLong},
		{"len/base-only-over", strings.Repeat("b", MaxTopicLen+1), Limits{}, 0, ErrTooLong},
		{"len/custom/over", "news", Limits{MaxLen: 3}, 0, ErrTooLong},
		{"len/no-limit", long + long, Limits{MaxLen: -1}, 1, nil},
	}
	var reused Set
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseTopicLimits(tc.uri, tc.l)
			rerr := reused.ParseTopicLimits([]byte(tc.uri), tc.l)
			if err != tc.err || rerr != tc.err {
				t.Fatalf("ParseTopicLimits = %v, reusing form %v; want %v", err, rerr, tc.err)
			}
			if !s.Equal(reused) {
				t.Fatalf("forms disagree: %q vs %q", s.Tags(), reused.Tags())
			}
			user := s.Len()
			if _, ok := s.Base(); ok {
				user--
			}
			if err == nil && user != tc.tags {
				t.Fatalf("%d user tags, want %d", user, tc.tags)
			}
			if tc.l == (Limits{}) {
				d, derr := ParseTopic(tc.uri)
				if derr != err || !d.Equal(s) {
					t.Fatalf("ParseTopic (default limits) = %v, want %v", derr, err)
				}
			}
		})
	}
}

// TestLimitsJSON checks the bounds of ParseJSON.
func TestLimitsJSON(t *testing.T) {
	pad := func(obj string, n int) string { return obj + strings.Repeat(" ", n-len(obj)) }
	tests := []struct {
		name string
		obj  string
		l    Limits
		tags int
		err  error
	}{
		{"tags/at", object(MaxTags), Limits{}, MaxTags, nil},
		{"tags/over", object(MaxTags + 1), Limits{}, 0, ErrTooManyTags},
		{"tags/over-before-bad-value", strings.TrimSuffix(object(MaxTags+1), "}") + `,"x":true}`, Limits{}, 0, ErrTooManyTags},
		{"tags/custom/over", object(3), Limits{MaxTags: 2}, 0, ErrTooManyTags},
		{"tags/no-limit", object(300), Limits{MaxTags: -1, MaxLen: -1}, 300, nil},
		{"len/at", pad(`{"a":1}`, MaxTopicLen), Limits{}, 1, nil},
		{"len/over", pad(`{"a":1}`, MaxTopicLen+1), Limits{}, 0, ErrTooLong},
		{"len/over-before-bad-utf8", pad("{\"a\":\"\xff\"}", MaxTopicLen+1), Limits{}, 0, ErrTooLong},
		{"len/no-limit", pad(`{"a":1}`, 3*MaxTopicLen), Limits{MaxLen: -1}, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseJSONLimits([]byte(tc.obj), tc.l)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("ParseJSONLimits = %v, want %v", err, tc.err)
			}
			if err == nil && s.Len() != tc.tags {
				t.Fatalf("%d tags, want %d", s.Len(), tc.tags)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "tagindex: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if tc.l == (Limits{}) {
				if _, derr := ParseJSON([]byte(tc.obj)); !errors.Is(derr, tc.err) || (derr == nil) != (tc.err == nil) {
					t.Fatalf("ParseJSON (default limits) = %v, want %v", derr, tc.err)
				}
			}
		})
	}
}

// TestLimitsNoAlloc checks that a reusing parse refused by a limit costs no
// allocation.
func TestLimitsNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var s Set
	tooMany := []byte("news?" + query(MaxTags+1, "&"))
	tooLong := []byte(strings.Repeat("b", MaxTopicLen+1))
	if n := testing.AllocsPerRun(100, func() {
		if s.ParseTopic(tooMany) != ErrTooManyTags || s.ParseTopic(tooLong) != ErrTooLong {
			t.Fatal("not refused")
		}
	}); n != 0 {
		t.Errorf("%v allocations per refused parse, want 0", n)
	}
}

func TestCountPairs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{{"", 0}, {"&", 0}, {"a", 1}, {"a&b", 2}, {"&&a&&b&&", 2}, {"a=1&=&b", 3}} {
		if got := countPairs(tc.in); got != tc.want {
			t.Errorf("countPairs(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
