package protocol

import "testing"

// TestZeroAllocs asserts that the hot paths allocate nothing once their
// buffers have grown: decoding CALL and PUBLISH (escaped strings included)
// and plain requests, and encoding EVENT (doc.go "Allocations").
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var d Decoder
	var m Message
	var p Prefixes
	if err := p.Set(bs("calc"), bs("http://example.com/simple/calc#")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	plainFrame := bs(`{"message":{"text":"Bonjour"},"tags":{"language":"FR"},"metadata":{"key":"k"}}`)
	var r PlainRequest
	decode := func(frame string) func() {
		b := []byte(frame)
		return func() {
			if err := d.Decode(b, &m); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name string
		fn   func()
	}{
		{"decode/call", decode(callFrame)},
		{"decode/call-escaped", decode(callEscapedFrame)},
		{"decode/call-many-args", decode(`[2,"id","u",1,2,3,4,5,6,7,8,9,10,11,12,[1],{"a":"b"},null]`)},
		{"decode/call-args=4000", decode(callWith(4000, `"a\nb"`))},
		{"decode/publish", decode(publishFrame)},
		{"decode/publish-exclude", decode(publishExcludeFrame)},
		{"decode/subscribe", decode(subscribeFrame)},
		{"decode/callresult", decode(`[3,"id",{"a":[1,2]}]`)},
		{"decode-plain", func() {
			if err := d.DecodePlain(plainFrame, &r); err != nil {
				t.Fatal(err)
			}
		}},
		{"append/event", func() { buf = AppendEvent(buf[:0], "http://example.com/news?lang=FR", eventPayload) }},
		{"append/event-escaped", func() { buf = AppendEvent(buf[:0], "a\"b\n\u2028\xff", eventPayload) }},
		{"append/callresult", func() { buf = AppendCallResult(buf[:0], bs(`"0.qd4lajti34a"`), eventPayload) }},
		{"append/call", func() { buf = AppendCall(buf[:0], "id", "calc:square", eventPayload, eventPayload) }},
		{"append/publish", func() {
			buf = AppendPublish(buf[:0], "t", eventPayload, PublishOptions{Exclude: ExcludeList, ExcludeIDs: []string{"a"}})
		}},
		{"prefixes/resolve", func() { buf = p.Resolve(buf[:0], bs("calc:square")) }},
		{"prefixes/resolve-limit", func() { buf, _ = p.ResolveLimit(buf[:0], bs("calc:square")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tc.fn); n != 0 {
				t.Errorf("%v allocations per run, want 0", n)
			}
		})
	}
}
