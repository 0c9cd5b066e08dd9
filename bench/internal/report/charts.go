package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// WriteCharts draws one SVG bar chart per metric into dir: a group of
// bars per scenario, tagwamp beside the peer. It returns the files
// written.
func (rep *Report) WriteCharts(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var files []string
	var all []*Result
	for i := range rep.Results {
		if rep.Results[i].Err == "" {
			all = append(all, &rep.Results[i])
		}
	}
	for _, m := range unionMetrics(all) {
		if m.Better == Neither {
			continue // counts that describe the run, not figures to compare
		}
		var names []string
		var tw, pe plotter.Values
		for _, name := range rep.names() {
			t, p := rep.pair(name)
			tv, tok := value(t, m.Name)
			pv, pok := value(p, m.Name)
			if !tok && !pok {
				continue
			}
			names = append(names, name)
			tw, pe = append(tw, tv), append(pe, pv)
		}
		f := filepath.Join(dir, fileName(m.Name)+".svg")
		if err := barChart(f, m, names, tw, pe); err != nil {
			return files, err
		}
		files = append(files, f)
	}
	return files, nil
}

func value(r *Result, name string) (float64, bool) {
	if r == nil {
		return 0, false
	}
	m, ok := r.Metric(name)
	if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
		return 0, ok
	}
	return m.Value, ok
}

// fileName turns a metric name into a file name: "p99 latency" ->
// "p99-latency".
func fileName(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			return r
		}
		return '-'
	}, s), "-")
}

func barChart(file string, m Metric, names []string, tw, pe plotter.Values) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (%s, %s is better)", m.Name, m.Unit, m.Better)
	p.Y.Label.Text = m.Unit
	w := vg.Points(14)
	bt, err := plotter.NewBarChart(tw, w)
	if err != nil {
		return fmt.Errorf("report: chart %s: %w", m.Name, err)
	}
	bt.Color = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	bt.Offset = -w / 2
	bp, err := plotter.NewBarChart(pe, w)
	if err != nil {
		return fmt.Errorf("report: chart %s: %w", m.Name, err)
	}
	bp.Color = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	bp.Offset = w / 2
	p.Add(bt, bp)
	p.Legend.Add("tagwamp", bt)
	p.Legend.Add("peer (centrifuge)", bp)
	p.Legend.Top = true
	short := make([]string, len(names))
	for i, n := range names {
		short[i] = strings.ReplaceAll(n, " ", "\n")
	}
	p.NominalX(short...)
	p.X.Tick.Label.Font.Size = vg.Points(7)
	width := max(4*vg.Inch, vg.Length(len(names))*1.4*vg.Inch)
	if err := p.Save(width, 4*vg.Inch, file); err != nil {
		return fmt.Errorf("report: chart %s: %w", m.Name, err)
	}
	return nil
}
