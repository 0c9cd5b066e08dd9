package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func sample() *Report {
	rep := &Report{Machine: ThisMachine("test")}
	for _, s := range []struct {
		server    string
		rate, p99 float64
		gen, srv  float64
	}{{"tagwamp", 1200, 1, 1, 2}, {"peer", 100, 4, 3, 2}} {
		r := Result{Name: "fanout subs=10", Short: "fanout 10", Scenario: "fanout", Server: s.server, Seconds: 1,
			ServerCPU: s.srv, GenCPU: s.gen, Params: map[string]any{"subs": 10}}
		r.Add("deliveries/s", s.rate, "1/s", Higher)
		r.Add("p99 latency", s.p99, "us", Lower)
		r.Add("deliveries per server CPU-s", s.rate/s.srv, "1/cpu-s", Higher)
		r.Finish()
		rep.Add(r)
	}
	return rep
}

func TestRatios(t *testing.T) {
	rep := sample()
	rep.ComputeRatios()
	want := []Ratio{{"fanout subs=10", "deliveries/s", 12, true}, {"fanout subs=10", "p99 latency", 0.25, true},
		{"fanout subs=10", "deliveries per server CPU-s", 12, true}}
	if len(rep.Ratios) != len(want) {
		t.Fatalf("ratios %+v", rep.Ratios)
	}
	for i := range want {
		if rep.Ratios[i] != want[i] {
			t.Errorf("ratio %d = %+v, want %+v", i, rep.Ratios[i], want[i])
		}
	}
	if rep.Results[0].ClientBound || !rep.Results[1].ClientBound {
		t.Errorf("client-bound flags %v %v, want false true", rep.Results[0].ClientBound, rep.Results[1].ClientBound)
	}
}

func TestTableAndJSON(t *testing.T) {
	rep := sample()
	var b bytes.Buffer
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"== fanout subs=10", "12.00 ahead", "0.25 ahead", "CLIENT-BOUND", "params: subs=10"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != 2 || len(got.Ratios) != 3 || got.Results[1].Metrics[1].Value != 4 {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestCharts(t *testing.T) {
	dir := t.TempDir()
	files, err := sample().WriteCharts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 || filepath.Base(files[0]) != "deliveries-s.svg" || filepath.Base(files[3]) != SummaryChart {
		t.Fatalf("files %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// The values labelled with thousands separators, the short name on
	// the row and the whole name in the caption, the legend.
	for _, want := range []string{"<svg", ">1,200<", ">100<", ">fanout 10<", "fanout 10: fanout subs=10", ">peer (centrifuge)<", "higher is better"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("chart %s lacks %q", files[0], want)
		}
	}
	b, err = os.ReadFile(files[3])
	if err != nil {
		t.Fatal(err)
	}
	// deliveries per server CPU-s: (1200/2)/(100/2) = 12x; p99 is not a
	// summary metric.
	for _, want := range []string{">fanout 10 · deliveries per server CPU-s<", ">12.00×<"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("summary lacks %q:\n%s", want, b)
		}
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if err := xml.Unmarshal(b, new(struct{})); err != nil {
			t.Errorf("%s is not well-formed XML: %v", f, err)
		}
	}
}

func TestGroup(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1234567: "1,234,567", 999.6: "1,000", -12345: "-12,345", 12.34: "12.3",
		1.234: "1.23", 0.4567: "0.457", 100: "100"} {
		if got := Group(v); got != want {
			t.Errorf("Group(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tt := range []struct {
		hi   float64
		want []float64
	}{{10, []float64{0, 2, 4, 6, 8, 10}}, {118000, []float64{0, 20000, 40000, 60000, 80000, 100000, 120000}}, {0, nil}} {
		if got := niceTicks(tt.hi); !slices.Equal(got, tt.want) {
			t.Errorf("niceTicks(%v) = %v, want %v", tt.hi, got, tt.want)
		}
	}
}
