package logval

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	long := strings.Repeat("a", 4096)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "empty", in: "", want: ""},
		{name: "short", in: "http://example.com/news", want: "http://example.com/news"},
		{name: "exactly Max", in: long[:Max], want: long[:Max]},
		{name: "one over", in: long[:Max+1], want: long[:Max] + "…[129 bytes]"},
		{name: "long", in: long, want: long[:Max] + "…[4096 bytes]"},
		// "é" is 2 bytes: after "x", the 64th spans bytes 127 and 128,
		// across Max, and is left out whole.
		{name: "rune straddles Max", in: "x" + strings.Repeat("é", 100),
			want: "x" + strings.Repeat("é", 63) + "…[201 bytes]"},
		{name: "4-byte rune straddles Max", in: strings.Repeat("a", 126) + "😀" + "tail",
			want: strings.Repeat("a", 126) + "…[134 bytes]"},
		{name: "invalid UTF-8 is cut at Max", in: strings.Repeat("\xff", 200),
			want: strings.Repeat("\xff", Max) + "…[200 bytes]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if got != tt.want {
				t.Fatalf("String(%d bytes) = %q, want %q", len(tt.in), got, tt.want)
			}
			if utf8.ValidString(tt.in) && !utf8.ValidString(got) {
				t.Fatalf("String cut a valid string into invalid UTF-8: %q", got)
			}
		})
	}
}

func TestStringShortDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("a", Max)
	if n := testing.AllocsPerRun(100, func() { _ = String(s) }); n != 0 {
		t.Fatalf("String of a short value allocates %v times", n)
	}
}
