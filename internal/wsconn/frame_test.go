package wsconn

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClosePayload(t *testing.T) {
	tests := []struct {
		name, reason, want string
	}{
		{"empty", "", ""},
		{"short", "bye", "bye"},
		{"exactly 123", strings.Repeat("a", 123), strings.Repeat("a", 123)},
		{"cut in ASCII", strings.Repeat("a", 200), strings.Repeat("a", 123)},
		// 61 two-byte runes end at byte 122: the 62nd would straddle 123.
		{"cut inside a rune", strings.Repeat("é", 80), strings.Repeat("é", 61)},
		// A rune that ends exactly at byte 123 is kept whole.
		{"rune ending at the limit", "a" + strings.Repeat("é", 61) + "zzz", "a" + strings.Repeat("é", 61)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := closePayload(1008, tc.reason)
			if p[0] != 0x03 || p[1] != 0xf0 {
				t.Fatalf("code bytes %x", p[:2])
			}
			got := string(p[2:])
			if got != tc.want || len(p) > 125 || !utf8.ValidString(got) {
				t.Fatalf("reason %q (%d bytes), want %q", got, len(got), tc.want)
			}
		})
	}
}
