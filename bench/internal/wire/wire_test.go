package wire

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wsconn"
)

var mask = [4]byte{1, 2, 3, 4}

// unframe parses the client frames in b, unmasking them.
func unframe(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		h, err := ws.ReadHeader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if !h.Masked || !h.Fin || h.OpCode != ws.OpText {
			t.Fatalf("header %+v", h)
		}
		hl := wsconn.HeaderLen(b)
		p := append([]byte(nil), b[hl:hl+int(h.Length)]...)
		ws.Cipher(p, h.Mask, 0)
		out = append(out, string(p))
		b = b[hl+int(h.Length):]
	}
	return out
}

func TestMessages(t *testing.T) {
	pl := AppendPayload(nil, 42, 7, 9, 3)
	tw, _ := For(Tagwamp)
	pe, _ := For(Peer)
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"tagwamp subscribe", tw.AppendSubscribe(nil, mask, 2, "http://x/t?g=1"), `[5,"http://x/t?g=1"]`},
		{"tagwamp barrier", tw.AppendBarrier(nil, mask, 36), `[2,"b10","http://tagwamp.dev/procedure#ping"]`},
		{"tagwamp publish", tw.AppendPublish(nil, mask, 3, "t", pl, false), `[7,"t",{"ts":42,"pub":7,"seq":9,"p":"xxx"}]`},
		{"tagwamp publish echo", tw.AppendPublish(nil, mask, 3, "t", pl, true), `[7,"t",{"ts":42,"pub":7,"seq":9,"p":"xxx"},false]`},
		{"tagwamp call", tw.AppendCall(nil, mask, 35, pl), `[2,"z","http://tagwamp.dev/procedure#echo",{"ts":42,"pub":7,"seq":9,"p":"xxx"}]`},
		{"peer hello", pe.AppendHello(nil, mask), `{"id":1,"connect":{}}`},
		{"peer subscribe", pe.AppendSubscribe(nil, mask, 2, "g1"), `{"id":2,"subscribe":{"channel":"g1"}}`},
		{"peer publish", pe.AppendPublish(nil, mask, 3, "g1", pl, true), `{"id":3,"publish":{"channel":"g1","data":{"ts":42,"pub":7,"seq":9,"p":"xxx"}}}`},
		{"peer call", pe.AppendCall(nil, mask, 4, pl), `{"id":4,"rpc":{"method":"echo","data":{"ts":42,"pub":7,"seq":9,"p":"xxx"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unframe(t, tt.b)
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if !json.Valid([]byte(got[0])) {
				t.Fatalf("%s is not JSON", got[0])
			}
		})
	}
	if b := tw.AppendHello([]byte("x"), mask); string(b) != "x" {
		t.Errorf("tagwamp hello appended %q", b)
	}
	if b := pe.AppendBarrier([]byte("x"), mask, 1); string(b) != "x" {
		t.Errorf("peer barrier appended %q", b)
	}
}

// TestFrameSizes covers the three header lengths, and frames appended
// after others.
func TestFrameSizes(t *testing.T) {
	tw, _ := For(Tagwamp)
	for _, n := range []int{0, 100, 125, 126, 1000, 65535, 65536, 70000} {
		topic := strings.Repeat("a", n)
		b := tw.AppendSubscribe([]byte{}, mask, 1, "x")
		b = tw.AppendSubscribe(b, mask, 1, topic)
		got := unframe(t, b)
		if len(got) != 2 || got[0] != `[5,"x"]` || got[1] != `[5,"`+topic+`"]` {
			t.Fatalf("n=%d: frames %d, lengths %d", n, len(got), len(got[len(got)-1]))
		}
	}
	if got := unframe(t, AppendFrame(nil, mask, []byte("hello"))); got[0] != "hello" {
		t.Fatalf("AppendFrame: %q", got)
	}
}

func TestClassify(t *testing.T) {
	tw, _ := For(Tagwamp)
	pe, _ := For(Peer)
	tests := []struct {
		p    Proto
		msg  string
		want Kind
	}{
		{tw, `[0,"sid",1,"tagwamp/0.1"]`, KindHello},
		{tw, `[8,"t",{"ts":1,"pub":2}]`, KindEvent},
		{tw, `[3,"c",[1]]`, KindResult},
		{tw, `[4,"c","uri","desc"]`, KindError},
		{tw, `[1,"p","u"]`, KindOther},
		{tw, `[`, KindOther},
		{pe, `{"id":1,"connect":{"client":"x","version":"0.0.0"}}`, KindHello},
		{pe, `{"id":12,"subscribe":{}}`, KindSubscribed},
		{pe, `{"id":3,"rpc":{"data":{"ts":1}}}`, KindResult},
		{pe, `{"id":3,"error":{"code":103,"message":"permission denied"}}`, KindError},
		{pe, `{"id":3,"publish":{}}`, KindOther},
		{pe, `{"push":{"channel":"g1","pub":{"data":{"ts":1,"pub":2}}}}`, KindEvent},
		{pe, `{"push":{"channel":"g1","join":{}}}`, KindOther},
		{pe, `{}`, KindOther},
	}
	for _, tt := range tests {
		if got := tt.p.Classify([]byte(tt.msg)); got != tt.want {
			t.Errorf("Classify(%s) = %s, want %s", tt.msg, got, tt.want)
		}
	}
}

func TestSplit(t *testing.T) {
	pe, _ := For(Peer)
	var got []string
	pe.Split([]byte("{\"a\":1}\n{\"b\":2}\n\n{}"), func(m []byte) { got = append(got, string(m)) })
	if strings.Join(got, "|") != `{"a":1}|{"b":2}|{}` {
		t.Fatalf("split %q", got)
	}
	tw, _ := For(Tagwamp)
	got = nil
	tw.Split([]byte("[8,\"t\",\"a\\nb\"]"), func(m []byte) { got = append(got, string(m)) })
	if len(got) != 1 {
		t.Fatalf("tagwamp split %q", got)
	}
}

func TestParseStamp(t *testing.T) {
	ts, pub, seq, err := ParseStamp([]byte(`[8,"t",{"ts":1700000000123456789,"pub":1048576,"seq":4294967295,"p":"xx"}]`))
	if err != nil || ts != 1700000000123456789 || pub != 1048576 || seq != 4294967295 {
		t.Fatalf("ParseStamp = %d %d %d %v", ts, pub, seq, err)
	}
	for _, bad := range []string{`[8,"t",{}]`, `{"ts":1}`, `{"ts":1,"x":2}`, `{"ts":1,"pub":2,"p":"x"}`} {
		if _, _, _, err := ParseStamp([]byte(bad)); err == nil {
			t.Errorf("ParseStamp(%s): no error", bad)
		}
	}
}

// TestFrameReader parses server frames split at every byte.
func TestFrameReader(t *testing.T) {
	var stream []byte
	var want []string
	for _, n := range []int{3, 200, 70000} {
		p := bytes.Repeat([]byte("e"), n)
		var hb bytes.Buffer
		ws.WriteHeader(&hb, ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(n)})
		stream = append(append(stream, hb.Bytes()...), p...)
		want = append(want, string(p))
	}
	for cut := 0; cut <= len(stream); cut += 997 {
		var r FrameReader
		var got []string
		fn := func(op ws.OpCode, p []byte) { got = append(got, string(p)) }
		used, _, err := r.Parse(stream[:cut], fn)
		if err != nil {
			t.Fatal(err)
		}
		rest := append([]byte(nil), stream[used:]...)
		if _, _, err := r.Parse(rest, fn); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("cut %d: %d frames", cut, len(got))
		}
	}
	var r FrameReader
	masked := AppendFrame(nil, mask, []byte("x"))
	if _, _, err := r.Parse(masked, func(ws.OpCode, []byte) {}); err == nil {
		t.Fatal("masked server frame: no error")
	}
}

func BenchmarkClassifyEvent(b *testing.B) {
	for _, s := range []Server{Tagwamp, Peer} {
		p, _ := For(s)
		msg := []byte(`[8,"http://bench.tagwamp.dev/t?g=1",{"ts":1700000000123456789,"pub":1048576,"seq":12345,"p":"xxxxxxxxxxxxxxxx"}]`)
		if s == Peer {
			msg = []byte(`{"push":{"channel":"g1","pub":{"data":{"ts":1700000000123456789,"pub":1048576,"seq":12345,"p":"xxxxxxxxxxxxxxxx"}}}}`)
		}
		b.Run(string(s), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p.Classify(msg) != KindEvent {
					b.Fatal("not an event")
				}
				if _, _, _, err := ParseStamp(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
