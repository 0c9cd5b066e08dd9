package protocol

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"calc", true}, {"a", true}, {"A-z_0.9", true}, {"...", true},
		{"", false}, {"a b", false}, {"a:b", false}, {"a/b", false}, {"a=b", false},
		{"{}", false}, {`"a"`, false}, {"é", false}, {"a\x00", false},
	}
	for _, tc := range tests {
		if got := ValidName([]byte(tc.in)); got != tc.want {
			t.Errorf("ValidName(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPrefixesResolve(t *testing.T) {
	var p Prefixes
	if got := string(p.Resolve(nil, bs("calc:square"))); got != "calc:square" {
		t.Errorf("zero Prefixes resolved %q", got)
	}
	for _, d := range [][2]string{
		{"calc", "http://example.com/simple/calc#"},
		{"event", "http://example.com/event#"},
		{"e", "http://e/"},
	} {
		if err := p.Set(bs(d[0]), bs(d[1])); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ in, want string }{
		{"calc:square", "http://example.com/simple/calc#square"},
		{"event:myevent1", "http://example.com/event#myevent1"},
		{"calc:", "http://example.com/simple/calc#"},
		{"calc:a:b", "http://example.com/simple/calc#a:b"},
		{"e:x?lang=FR", "http://e/x?lang=FR"},
		{"http://example.com/simple", "http://example.com/simple"},
		{"unknown:x", "unknown:x"},
		{"calc", "calc"},
		{":calc", ":calc"},
		{"", ""},
		{"CALC:x", "CALC:x"},
	}
	for _, tc := range tests {
		if got := string(p.Resolve([]byte("pre|"), bs(tc.in))); got != "pre|"+tc.want {
			t.Errorf("Resolve(%q) = %q, want %q", tc.in, got, "pre|"+tc.want)
		}
	}
}

func TestPrefixesSet(t *testing.T) {
	var p Prefixes
	uri := bs("http://a/")
	if err := p.Set(bs("a"), uri); err != nil {
		t.Fatal(err)
	}
	uri[7] = 'X' // Set copied it
	if got := string(p.Resolve(nil, bs("a:b"))); got != "http://a/b" {
		t.Errorf("Resolve after caller changed its bytes = %q", got)
	}
	if err := p.Set(bs("a"), bs("http://redefined/")); err != nil {
		t.Fatal(err)
	}
	if got := string(p.Resolve(nil, bs("a:b"))); got != "http://redefined/b" || p.Len() != 1 {
		t.Errorf("redefined: %q, Len %d", got, p.Len())
	}
	for _, bad := range []string{"", "a b", "a:b", "{}"} {
		if err := p.Set(bs(bad), bs("u")); !errors.Is(err, ErrBadPrefix) || CloseCodeOf(err) != CloseProtocolError {
			t.Errorf("Set(%q) = %v, want ErrBadPrefix", bad, err)
		}
	}
	for i := 1; i < MaxPrefixes; i++ {
		if err := p.Set(fmt.Appendf(nil, "p%d", i), bs("u")); err != nil {
			t.Fatalf("Set #%d: %v", i, err)
		}
	}
	if p.Len() != MaxPrefixes {
		t.Fatalf("Len = %d", p.Len())
	}
	err := p.Set(bs("one-too-many"), bs("u"))
	if !errors.Is(err, ErrTooManyPrefixes) || CloseCodeOf(err) != ClosePolicyViolation {
		t.Errorf("Set over the limit = %v, want ErrTooManyPrefixes", err)
	}
	if err := p.Set(bs("p7"), bs("v")); err != nil {
		t.Errorf("redefining at the limit = %v", err)
	}
}

func TestPrefixesMax(t *testing.T) {
	for _, tc := range []struct {
		name      string
		max, want int // want: how many Set accepts; -1 for no limit seen
	}{
		{"lower", 3, 3},
		{"higher", MaxPrefixes + 10, MaxPrefixes + 10},
		{"unlimited", -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Prefixes{Max: tc.max}
			n := 0
			for ; n < MaxPrefixes+100; n++ {
				if err := p.Set(fmt.Appendf(nil, "p%d", n), bs("u")); err != nil {
					if !errors.Is(err, ErrTooManyPrefixes) || !strings.Contains(err.Error(), fmt.Sprint(tc.max)) {
						t.Fatalf("Set #%d = %v", n, err)
					}
					break
				}
			}
			if tc.want >= 0 && n != tc.want || tc.want < 0 && n != MaxPrefixes+100 {
				t.Fatalf("accepted %d prefixes, want %d", n, tc.want)
			}
		})
	}
}
