package protocol

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	json "github.com/goccy/go-json"
)

// FuzzDecode checks that Decode never panics, that it accepts exactly the
// frames that are valid JSON (by go-json and encoding/json), valid UTF-8
// and not too deep, that a decoded message re-encodes to a frame that
// decodes to the same message, and that the callId of a CALL, CALLRESULT or
// CALLERROR is a string or number token of the frame itself
// (docs/protocol.md#call-ids). Seeds: testdata/fuzz/FuzzDecode and the
// cases of decode_test.go.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.frame))
	}
	for _, tc := range malformedCases {
		if len(tc.frame) < 4096 {
			f.Add([]byte(tc.frame))
		}
	}
	var d1, d2 Decoder
	var m1, m2 Message
	f.Fuzz(func(t *testing.T, frame []byte) {
		err := d1.Decode(frame, &m1)
		if errors.Is(err, ErrTooManyElements) {
			// The scanner stopped at the first value over the limit and
			// left the rest unread; each value takes at least a byte.
			if len(frame) <= DefaultMaxElements {
				t.Fatalf("Decode(%q) = %v: too short for that", frame, err)
			}
			return
		}
		validJSON := json.Valid(frame)
		if validJSON != stdjson.Valid(frame) {
			t.Fatalf("go-json Valid = %v, encoding/json Valid = %v", validJSON, !validJSON)
		}
		wantValid := validJSON && utf8.Valid(frame) && jsonDepth(frame) <= MaxDepth
		if got, want := Valid(frame), wantValid && jsonDepth(frame) < MaxDepth; got != want {
			t.Fatalf("Valid(%q) = %v, want %v", frame, got, want)
		}
		if gotValid := !errors.Is(err, ErrInvalidJSON); gotValid != wantValid {
			t.Fatalf("Decode(%q) = %v; want valid JSON = %v", frame, err, wantValid)
		}
		if err != nil {
			if CloseCodeOf(err) == CloseInternalError || !strings.HasPrefix(err.Error(), "protocol: ") {
				t.Fatalf("Decode(%q) = %v: not a protocol error", frame, err)
			}
			return
		}
		before := show(&m1)
		out := appendMessage(nil, &m1)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("re-encoded %q as invalid JSON %q", frame, out)
		}
		if err := d2.Decode(out, &m2); err != nil {
			t.Fatalf("re-encoded %q as %q: %v", frame, out, err)
		}
		if a, b := normalize(&m1), normalize(&m2); a != b {
			t.Fatalf("re-encoded %q as %q\n got %s\nwant %s", frame, out, b, a)
		}
		if show(&m1) != before {
			t.Fatalf("decoding with another Decoder changed the first message")
		}
		var id []byte
		switch m1.Type {
		case TypeCall:
			id = m1.Call.CallID
		case TypeCallResult:
			id = m1.CallResult.CallID
		case TypeCallError:
			id = m1.CallError.CallID
		default:
			return
		}
		if err := checkCallIDToken(frame, id); err != nil {
			t.Fatalf("%v CallID %q: %v", m1.Type, id, err)
		}
	})
}

// checkCallIDToken checks that id is a JSON string or number token of the
// frame itself (a subslice, not a copy), echoed byte for byte
// (docs/protocol.md#call-ids).
func checkCallIDToken(frame, id []byte) error {
	if len(id) == 0 || !subslice(frame, id) {
		return errors.New("not a subslice of the frame")
	}
	dec := stdjson.NewDecoder(bytes.NewReader(id))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if dec.InputOffset() != int64(len(id)) {
		return errors.New("not one token")
	}
	switch v.(type) {
	case string, stdjson.Number:
		return nil
	}
	return fmt.Errorf("a %T, not a string or a number", v)
}

// subslice reports whether sub lies within b's memory.
func subslice(b, sub []byte) bool {
	if len(b) == 0 || len(sub) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	return p >= start && p+uintptr(len(sub)) <= start+uintptr(len(b))
}

// FuzzPrefixResolve checks Prefixes.Set, Resolve and ResolveLimit against
// a plain model of docs/protocol.md#curies and #limits, with a MaxURILen
// small enough for the fuzzer to cross.
func FuzzPrefixResolve(f *testing.F) {
	f.Add("calc", "http://example.com/simple/calc#", "calc:square")
	f.Add("calc", "http://x#", "http://example.com")
	f.Add("a b", "u", "a b:c")
	f.Add("", "u", ":x")
	f.Add("e", "", "e:")
	f.Add("long", strings.Repeat("u", 60), "long:12345")
	f.Add("x", strings.Repeat("u", 65), "x:")
	f.Fuzz(func(t *testing.T, name, uri, s string) {
		p := Prefixes{MaxURILen: 64}
		err := p.Set([]byte(name), []byte(uri))
		if (err == nil) != (ValidName([]byte(name)) && len(uri) <= 64) {
			t.Fatalf("Set(%q, %d bytes) = %v", name, len(uri), err)
		}
		want := s
		if before, after, ok := strings.Cut(s, ":"); ok && err == nil && before == name {
			want = uri + after
		}
		if got := string(p.Resolve([]byte("<"), []byte(s))); got != "<"+want {
			t.Fatalf("Resolve(%q) with %q=%q: %q, want %q", s, name, uri, got, "<"+want)
		}
		got, err := p.ResolveLimit([]byte("<"), []byte(s))
		if len(want) <= 64 && (err != nil || string(got) != "<"+want) ||
			len(want) > 64 && (!errors.Is(err, ErrURITooLong) || string(got) != "<") {
			t.Fatalf("ResolveLimit(%q) with %q=%q: %q, %v; want %q within 64 bytes", s, name, uri, got, err, want)
		}
	})
}
