package router

import (
	"fmt"
	"strings"
	"testing"
)

func TestProcURICache(t *testing.T) {
	w := benchWorker()
	for i := range maxInterned + 10 {
		w.uri = fmt.Appendf(w.uri[:0], "http://example.com/p%d", i)
		if got, want := w.procURI(), string(w.uri); got != want {
			t.Fatalf("procURI = %q, want %q", got, want)
		}
	}
	if len(w.uris) != maxInterned {
		t.Fatalf("cache holds %d URIs, want the bound %d", len(w.uris), maxInterned)
	}
	w.uri = append(w.uri[:0], "http://example.com/p0"...)
	if n := testing.AllocsPerRun(100, func() { w.procURI() }); n != 0 {
		t.Fatalf("a cached URI costs %v allocations", n)
	}
	// Alternating and repeated URIs, cached or not, each get their own.
	for _, u := range []string{"http://example.com/p1", "http://example.com/p1", "http://example.com/p2",
		"http://example.com/x", "http://example.com/x", "http://example.com/p1", "", "http://example.com/p1"} {
		w.uri = append(w.uri[:0], u...)
		if got := w.procURI(); got != u {
			t.Fatalf("procURI = %q, want %q", got, u)
		}
	}
}

// TestProcURICacheBytes: long procedure URIs fill the cache's byte bound,
// not its entry bound.
func TestProcURICacheBytes(t *testing.T) {
	w := benchWorker()
	long := strings.Repeat("u", 4000)
	for i := range 100 {
		w.uri = fmt.Appendf(w.uri[:0], "http://example.com/%s%d", long, i)
		if got, want := w.procURI(), string(w.uri); got != want {
			t.Fatalf("procURI = %q, want %q", got, want)
		}
	}
	if w.urisBytes > maxInternedBytes || len(w.uris) >= 100 {
		t.Fatalf("cache holds %d URIs, %d bytes; bound %d bytes", len(w.uris), w.urisBytes, maxInternedBytes)
	}
}

// BenchmarkProcURI is the cost of a CALL's procedure URI string: the same
// procedure again (the last URI, no hash) and two procedures in turn
// (the intern map).
func BenchmarkProcURI(b *testing.B) {
	uris := [][]byte{[]byte("http://tagwamp.dev/procedure#echo"), []byte("http://tagwamp.dev/procedure#ping")}
	for _, bc := range []struct {
		name string
		n    int
	}{{"same", 1}, {"alternating", 2}} {
		b.Run(bc.name, func(b *testing.B) {
			w := benchWorker()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				w.uri = append(w.uri[:0], uris[i%bc.n]...)
				w.procURI()
				i++
			}
		})
	}
}
