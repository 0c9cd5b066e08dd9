package protocol

import (
	"errors"
	"strings"
	"testing"
)

// callWith returns a CALL frame with n arguments, each arg.
func callWith(n int, arg string) string {
	var b strings.Builder
	b.WriteString(`[2,"id","u"`)
	for range n {
		b.WriteByte(',')
		b.WriteString(arg)
	}
	b.WriteByte(']')
	return b.String()
}

// idList returns a JSON list of n session ids.
func idList(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = `"s"`
	}
	return "[" + strings.Join(ids, ",") + "]"
}

// TestLimitsElements checks Limits.MaxElements: every value counts, the
// message's elements and nested ones; a message at the limit passes, one
// value more is ErrTooManyElements, close 1009 (docs/protocol.md#limits).
func TestLimitsElements(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		frame string
		ok    bool
	}{
		{"flat/at", 10, callWith(7, "1"), true}, // 3 + 7
		{"flat/over", 10, callWith(8, "1"), false},
		{"nested-list/at", 10, `[2,"id","u",[1,2,3,4,5,6]]`, true},
		{"nested-list/over", 10, `[2,"id","u",[1,2,3,4,5,6,7]]`, false},
		{"object/at", 10, `[2,"id","u",{"a":1,"b":[1,2,3,4]}]`, true},
		{"object/over", 10, `[2,"id","u",{"a":1,"b":[1,2,3,4],"c":{}}]`, false},
		{"empty-containers/at", 7, `[2,"id","u",[],{},[[]]]`, true},
		{"empty-containers/over", 7, `[2,"id","u",[],{},[[[]]]]`, false},
		{"deep/at", 6, `[2,"id","u",[[[]]]]`, true},
		{"deep/over", 6, `[2,"id","u",[[[[]]]]]`, false},
		{"not-array/over", 3, `{"a":[1,2,3]}`, false},
		{"stops-before-bad-json", 4, `[2,"id","u",1,2,x`, false},
		{"default/at", 0, callWith(DefaultMaxElements-3, "0"), true},
		{"default/over", 0, callWith(DefaultMaxElements-2, "0"), false},
		{"no-limit", -1, callWith(3*DefaultMaxElements, "[0]"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decoder{Limits: Limits{MaxElements: tc.max}}
			var m Message
			err := d.Decode([]byte(tc.frame), &m)
			if tc.ok {
				if err != nil {
					t.Fatalf("Decode = %v, want success", err)
				}
				return
			}
			if !errors.Is(err, ErrTooManyElements) || CloseCodeOf(err) != CloseMessageTooBig {
				t.Fatalf("Decode = %v (close %d), want ErrTooManyElements, 1009", err, CloseCodeOf(err))
			}
			if !strings.Contains(err.Error(), "more than") || len(Reason(err)) > MaxReason {
				t.Errorf("reason %q", err)
			}
		})
	}
}

// TestLimitsHugeCall checks that a 1 MiB CALL of half a million arguments
// is refused without growing the Decoder's or the Message's slices past
// the limit.
func TestLimitsHugeCall(t *testing.T) {
	frame := []byte(callWith(1<<19, "1"))
	var d Decoder
	var m Message
	err := d.Decode(frame, &m)
	if !errors.Is(err, ErrTooManyElements) {
		t.Fatalf("Decode = %v, want ErrTooManyElements", err)
	}
	if cap(d.elems) > 2*DefaultMaxElements || cap(m.Call.Args) > 2*DefaultMaxElements {
		t.Errorf("grew to %d elems, %d args", cap(d.elems), cap(m.Call.Args))
	}
	if got := err.Error(); got != "protocol: message too big: more than 4096 JSON values" {
		t.Errorf("reason %q", got)
	}
}

// TestLimitsIDs checks Limits.MaxIDs on both PUBLISH lists.
func TestLimitsIDs(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		frame string
		ok    bool
	}{
		{"exclude/at", 3, `[7,"t",1,` + idList(3) + `]`, true},
		{"exclude/over", 3, `[7,"t",1,` + idList(4) + `]`, false},
		{"eligible/at", 3, `[7,"t",1,[],` + idList(3) + `]`, true},
		{"eligible/over", 3, `[7,"t",1,[],` + idList(4) + `]`, false},
		{"default/at", 0, `[7,"t",1,` + idList(DefaultMaxIDs) + `]`, true},
		{"no-limit", -1, `[7,"t",1,` + idList(100) + `]`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Decoder{Limits: Limits{MaxIDs: tc.max, MaxElements: -1}}
			var m Message
			err := d.Decode([]byte(tc.frame), &m)
			if tc.ok {
				if err != nil {
					t.Fatalf("Decode = %v, want success", err)
				}
				return
			}
			if !errors.Is(err, ErrTooManyIDs) || CloseCodeOf(err) != CloseProtocolError {
				t.Fatalf("Decode = %v, want ErrTooManyIDs, 1002", err)
			}
			if !strings.Contains(err.Error(), "more than 3 session ids") {
				t.Errorf("reason %q", err)
			}
		})
	}
	// The default MaxElements covers the lists too: 4096 ids and the
	// PUBLISH's other elements are more than 4096 values.
	var d Decoder
	var m Message
	if err := d.Decode([]byte(`[7,"t",1,`+idList(DefaultMaxIDs)+`]`), &m); !errors.Is(err, ErrTooManyElements) {
		t.Errorf("Decode with default limits = %v, want ErrTooManyElements", err)
	}
}

// TestDecoderKeeps checks that the buffers a big message grew are dropped
// at the next Decode, and that ordinary ones are kept.
func TestDecoderKeeps(t *testing.T) {
	d := Decoder{Limits: Limits{MaxElements: -1, MaxIDs: -1}}
	var m Message
	big := []byte(`[2,"id","\n` + strings.Repeat("x", 2*keepScratch) + `"` + strings.Repeat(",1", 2*keepElems) + `]`)
	if err := d.Decode(big, &m); err != nil {
		t.Fatal(err)
	}
	if cap(d.scratch) <= keepScratch || cap(d.elems) <= keepElems || cap(m.Call.Args) <= keepElems {
		t.Fatalf("the big frame did not grow the buffers: %d %d %d", cap(d.scratch), cap(d.elems), cap(m.Call.Args))
	}
	if err := d.Decode([]byte(`[2,"i\nd","u",1]`), &m); err != nil {
		t.Fatal(err)
	}
	if cap(d.scratch) > keepScratch || cap(d.elems) > keepElems || cap(m.Call.Args) > keepElems {
		t.Errorf("kept %d bytes of scratch, %d elems, %d args", cap(d.scratch), cap(d.elems), cap(m.Call.Args))
	}
	if string(m.Call.Args[0]) != "1" {
		t.Errorf("args %q", m.Call.Args)
	}
	if err := d.Decode([]byte(`[7,"t",1,`+idList(2*keepElems)+`]`), &m); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode([]byte(`[7,"t",1,["a"],["b"]]`), &m); err != nil {
		t.Fatal(err)
	}
	if cap(m.Publish.ExcludeIDs) > keepElems || cap(m.Publish.Eligible) > keepElems {
		t.Errorf("kept %d exclude ids", cap(m.Publish.ExcludeIDs))
	}
}

// TestLimitsURI checks Prefixes.MaxURILen in Set and
// Prefixes.ResolveLimit.
func TestLimitsURI(t *testing.T) {
	var p Prefixes
	long := strings.Repeat("u", DefaultMaxURILen)
	if err := p.Set(bs("a"), bs(long)); err != nil {
		t.Fatalf("Set at the limit = %v", err)
	}
	err := p.Set(bs("b"), bs(long+"u"))
	if !errors.Is(err, ErrURITooLong) || CloseCodeOf(err) != CloseProtocolError {
		t.Fatalf("Set over the limit = %v, want ErrURITooLong", err)
	}
	if p.Len() != 1 {
		t.Errorf("Len = %d after a refused Set", p.Len())
	}
	if got, err := p.ResolveLimit(bs("<"), bs("a:")); err != nil || string(got) != "<"+long {
		t.Errorf("ResolveLimit at the limit = %.20q, %v", got, err)
	}
	got, err := p.ResolveLimit(bs("<"), bs("a:x"))
	if !errors.Is(err, ErrURITooLong) || string(got) != "<" {
		t.Errorf("ResolveLimit over the limit = %.20q, %v; want dst unchanged and ErrURITooLong", got, err)
	}
	if want := "protocol: URI of 4097 bytes once resolved, over the limit of 4096"; err == nil || err.Error() != want {
		t.Errorf("reason %v, want %s", err, want)
	}
	if _, err := p.ResolveLimit(nil, bs(long+"x")); !errors.Is(err, ErrURITooLong) {
		t.Errorf("ResolveLimit of a long full URI = %v, want ErrURITooLong", err)
	}
	if got := p.Resolve(nil, bs("a:x")); len(got) != DefaultMaxURILen+1 {
		t.Errorf("Resolve applies a limit: %d bytes", len(got))
	}

	small := Prefixes{MaxURILen: 8}
	if err := small.Set(bs("c"), bs("http://")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"c:x", "http://x", true},
		{"c:xy", "", false},
		{"12345678", "12345678", true},
		{"123456789", "", false},
	} {
		got, err := small.ResolveLimit(nil, bs(tc.in))
		if (err == nil) != tc.ok || string(got) != tc.want {
			t.Errorf("ResolveLimit(%q) = %q, %v", tc.in, got, err)
		}
	}
	unlimited := Prefixes{MaxURILen: -1}
	if err := unlimited.Set(bs("a"), bs(long+long)); err != nil {
		t.Fatal(err)
	}
	if got, err := unlimited.ResolveLimit(nil, bs("a:x")); err != nil || len(got) != 2*DefaultMaxURILen+1 {
		t.Errorf("no limit: %d bytes, %v", len(got), err)
	}
}
