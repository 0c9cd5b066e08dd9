package protocol

import "testing"

// Frames of the benchmarks, shaped like AutobahnJS traffic.
const (
	callFrame           = `[2,"0.qd4lajti34a","http://example.com/simple/calc#add",23,7]`
	callEscapedFrame    = `[2,"0.qd4lajti34a","http://example.com/simple/calc#\u00e9\ud83d\ude00",{"text":"line\nbreak"},"a\"b"]`
	publishFrame        = `[7,"http://example.com/news?lang=FR&user=42",{"title":"Hello, world!","n":[1,2,3]}]`
	publishExcludeFrame = `[7,"http://example.com/news?lang=FR",{"title":"Hello"},["NwtXQ8rdfPsy-ewS","dYqgDl0FthI6_hjb"],["Ar8nKQDlwe3jb3Kv"]]`
	subscribeFrame      = `[5,"http://example.com/news?lang=FR&user=42"]`
)

// eventPayload is a small event, as raw JSON.
var eventPayload = []byte(`{"title":"Hello, world!","n":[1,2,3]}`)

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ name, frame string }{
		{"call", callFrame},
		{"publish", publishFrame},
		{"publish-exclude", publishExcludeFrame},
		{"subscribe", subscribeFrame},
		{"call-escaped", callEscapedFrame},
		{"call-args=4000", callWith(4000, "1")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			frame := []byte(bc.frame)
			var d Decoder
			var m Message
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if err := d.Decode(frame, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodePlain(b *testing.B) {
	frame := []byte(`{"message":{"title":"Hello, world!","n":[1,2,3]},"tags":{"language":"FR","user":42},"metadata":{"key":"k","secret":"s"}}`)
	var d Decoder
	var r PlainRequest
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if err := d.DecodePlain(frame, &r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	const topic = "http://example.com/news?lang=FR&user=42"
	buf := AppendEvent(nil, topic, eventPayload)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendEvent(buf[:0], topic, eventPayload)
	}
}

func BenchmarkAppendCallResult(b *testing.B) {
	id := []byte(`"0.qd4lajti34a"`)
	buf := AppendCallResult(nil, id, eventPayload)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = AppendCallResult(buf[:0], id, eventPayload)
	}
}

func BenchmarkPrefixesResolve(b *testing.B) {
	var p Prefixes
	for _, d := range [][2]string{{"calc", "http://example.com/simple/calc#"}, {"event", "http://example.com/event#"}} {
		if err := p.Set([]byte(d[0]), []byte(d[1])); err != nil {
			b.Fatal(err)
		}
	}
	s := []byte("calc:square")
	buf := p.Resolve(nil, s)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = p.Resolve(buf[:0], s)
	}
}
