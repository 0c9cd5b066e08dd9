package router

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestHeadReaderSplit checks that headReader finds the same limit whatever
// the reads its bytes come in: whole, or one byte at a time.
func TestHeadReaderSplit(t *testing.T) {
	lim := newHeadLimits(Options{MaxRequestLine: 16, MaxHeaderLine: 8, MaxHandshakeBytes: 64})
	for _, tc := range []struct {
		name, in string
		want     *headLimitError
	}{
		{"fits", "GET /aaaaaa HTTP\r\nA: 12345\r\n\r\nframes after the head are not counted" + strings.Repeat("x", 100), nil},
		{"request line at 16, CRLF", "GET /aaaaaaaaaaa\r\n\r\n", nil},
		{"request line at 16, LF", "GET /aaaaaaaaaaa\n\n", nil},
		{"request line at 17", "GET /aaaaaaaaaaaa\r\n\r\n", lim.requestLine},
		{"request line: a CR that is not a CRLF's", "GET /aaaaaaaaaaa\rx\r\n\r\n", lim.requestLine},
		{"header line at 8", "GET / HTTP\r\nA: 12345\r\n\r\n", nil},
		{"header line at 9", "GET / HTTP\r\nA: 123456\r\n\r\n", lim.headerLine},
		{"header line without end", "GET / HTTP\r\nA: " + strings.Repeat("1", 1000), lim.headerLine},
		{"total", "GET / HTTP\r\n" + strings.Repeat("A: 1234\r\n", 6) + "\r\n", lim.total},
		{"total, counted to the blank line", "GET / HTTP\r\n" + strings.Repeat("A: 1234\r\n", 5) + "\r\n", nil},
	} {
		for _, split := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tc.in)
			if split {
				r = iotest.OneByteReader(r)
			}
			_, err := io.ReadAll(&headReader{r: r, lim: &lim})
			if want := error(tc.want); tc.want == nil && err != nil || tc.want != nil && err != want {
				t.Errorf("%s (one byte at a time: %v): %v, want %v", tc.name, split, err, tc.want)
			}
		}
	}
}
