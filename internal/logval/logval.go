package logval

import (
	"strconv"
	"unicode/utf8"
)

// Max is the most bytes of a value that String keeps.
const Max = 128

// String returns s when it is at most Max bytes long; otherwise its first
// Max bytes, cut back to the last whole UTF-8 sequence, followed by a
// marker with the full length: "…[4096 bytes]".
func String(s string) string {
	if len(s) <= Max {
		return s
	}
	cut := Max
	// Back off a sequence that starts before Max and ends after it: at
	// most utf8.UTFMax-1 continuation bytes.
	for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut] + "…[" + strconv.Itoa(len(s)) + " bytes]"
}
