package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() *Report {
	rep := &Report{Machine: ThisMachine("test")}
	for _, s := range []struct {
		server    string
		rate, p99 float64
		gen, srv  float64
	}{{"tagwamp", 200, 1, 1, 2}, {"peer", 100, 4, 3, 2}} {
		r := Result{Name: "fanout subs=10", Scenario: "fanout", Server: s.server, Seconds: 1,
			ServerCPU: s.srv, GenCPU: s.gen, Params: map[string]any{"subs": 10}}
		r.Add("deliveries/s", s.rate, "1/s", Higher)
		r.Add("p99 latency", s.p99, "us", Lower)
		r.Finish()
		rep.Add(r)
	}
	return rep
}

func TestRatios(t *testing.T) {
	rep := sample()
	rep.ComputeRatios()
	want := []Ratio{{"fanout subs=10", "deliveries/s", 2, true}, {"fanout subs=10", "p99 latency", 0.25, true}}
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
	for _, want := range []string{"== fanout subs=10", "2.00 ahead", "0.25 ahead", "CLIENT-BOUND", "params: subs=10"} {
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
	if len(got.Results) != 2 || len(got.Ratios) != 2 || got.Results[1].Metrics[1].Value != 4 {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestCharts(t *testing.T) {
	dir := t.TempDir()
	files, err := sample().WriteCharts(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || filepath.Base(files[0]) != "deliveries-s.svg" {
		t.Fatalf("files %v", files)
	}
	b, err := os.ReadFile(files[1])
	if err != nil || !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("tagwamp")) {
		t.Fatalf("chart %s: %v %.100q", files[1], err, b)
	}
}
