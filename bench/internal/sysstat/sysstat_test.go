package sysstat

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, line string
		want       float64
		wantErr    bool
	}{
		{"plain", "123 (tagwamp) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0", 3, false},
		{"name with spaces and parens", "9 (a ) b) R 1 2 3 4 5 6 7 8 9 10 1 2 0", 0.03, false},
		{"short", "9 (x) R 1 2", 0, true},
		{"no paren", "9 x R", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStat = %v, %v; want %v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseRSS(t *testing.T) {
	got, err := parseRSS([]byte("Name:\tx\nVmRSS:\t  2048 kB\nThreads: 3\n"))
	if err != nil || got != 2048<<10 {
		t.Fatalf("parseRSS = %d, %v", got, err)
	}
	if _, err := parseRSS([]byte("Name:\tx\n")); err == nil {
		t.Fatal("no VmRSS: want an error")
	}
}

func TestSelf(t *testing.T) {
	if _, err := CPUSeconds(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	rss, err := RSS(os.Getpid())
	if err != nil || rss <= 0 {
		t.Fatalf("RSS = %d, %v", rss, err)
	}
}

func TestScrape(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("# HELP a x\n# TYPE a gauge\na 1.5\nb{q=\"1\"} 2e3\n"))
	}))
	defer ts.Close()
	m, err := Scrape(context.Background(), ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if m["a"] != 1.5 || m[`b{q="1"}`] != 2000 || len(m) != 2 {
		t.Fatalf("scraped %v", m)
	}
	if _, err := ParseText(strings.NewReader("a x\n")); err == nil {
		t.Fatal("bad value: want an error")
	}
}
