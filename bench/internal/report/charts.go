package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SummaryChart is the file name of the summary chart WriteCharts draws.
const SummaryChart = "summary-tagwamp-vs-peer.svg"

// summaryMetrics are the figures the summary chart compares, each where a
// scenario has it on both servers.
var summaryMetrics = []string{
	"connections per server CPU-s",
	"Go heap+stack per session",
	"RSS per session",
	"deliveries per server CPU-s",
	"publish-to-deliver p99",
	"last delivery p50",
	"calls per server CPU-s",
	"call p50",
	"call p99",
}

// series are the servers a chart draws, in order, with their colours.
var series = []struct{ server, label, color string }{
	{"tagwamp", "tagwamp", "#1f77b4"},
	{"peer", "peer (centrifuge)", "#ff7f0e"},
	{"floor", "floor (TCP echo)", "#7f7f7f"},
}

// WriteCharts draws, into dir, one SVG chart per metric (horizontal bars:
// a row per scenario, a bar per server, each labelled with its value; the
// legend above the bars; the scenarios' short names on the rows and their
// whole parameters in a caption), and the summary chart SummaryChart:
// tagwamp against the peer per scenario, normalised so that above 1 means
// tagwamp ahead. It returns the files written.
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
		c := barChart{metric: m}
		for _, name := range rep.names() {
			row := chartRow{name: name, short: rep.short(name), values: make([]float64, len(series)),
				has: make([]bool, len(series)), ran: make([]bool, len(series))}
			found := false
			for i, s := range series {
				row.ran[i] = rep.ran(name, s.server)
				if r := rep.result(name, s.server); r != nil {
					row.values[i], row.has[i] = value(r, m.Name)
					found = found || row.has[i]
				}
			}
			if found {
				c.rows = append(c.rows, row)
			}
		}
		f := filepath.Join(dir, fileName(m.Name)+".svg")
		if err := os.WriteFile(f, c.svg(), 0o644); err != nil {
			return files, fmt.Errorf("report: chart %s: %w", m.Name, err)
		}
		files = append(files, f)
	}
	f := filepath.Join(dir, SummaryChart)
	if err := os.WriteFile(f, rep.summary().svg(), 0o644); err != nil {
		return files, fmt.Errorf("report: summary chart: %w", err)
	}
	return append(files, f), nil
}

// result is the error-free result of name on server, or nil.
func (rep *Report) result(name, server string) *Result {
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Name == name && r.Server == server && r.Err == "" {
			return r
		}
	}
	return nil
}

// ran reports whether name ran on server, failed or not.
func (rep *Report) ran(name, server string) bool {
	return slices.ContainsFunc(rep.Results, func(r Result) bool { return r.Name == name && r.Server == server })
}

// short is the chart label of name: its results' Short, or the name.
func (rep *Report) short(name string) string {
	for _, r := range rep.Results {
		if r.Name == name && r.Short != "" {
			return r.Short
		}
	}
	return name
}

func value(r *Result, name string) (float64, bool) {
	if r == nil {
		return 0, false
	}
	m, ok := r.Metric(name)
	if !ok || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
		return 0, false
	}
	return m.Value, true
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

// Group formats v for a chart label: thousands separated, with two or
// three significant decimals below 100 ("1,234,567", "845", "12.3",
// "0.457").
func Group(v float64) string {
	a := math.Abs(v)
	var s string
	switch {
	case a >= 100:
		s = strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	case a == 0:
		return "0"
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
		if strings.Contains(s, "e") {
			s = strconv.FormatFloat(v, 'f', -1, 64)
		}
		return s
	}
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// chartRow is one scenario of a chart.
type chartRow struct {
	name, short string
	values      []float64 // per series
	has         []bool    // the series has a value
	ran         []bool    // the scenario ran on the series' server (failed or not)
}

// barChart is one metric's chart.
type barChart struct {
	metric Metric
	rows   []chartRow
}

// Layout of the charts, in pixels.
const (
	chartWidth = 960
	barHeight  = 16
	barGap     = 3
	rowGap     = 14
	charWidth  = 7 // an estimate of a 12px character, for the label column
	lineHeight = 16
)

// svgWriter builds an SVG document.
type svgWriter struct{ b bytes.Buffer }

func (w *svgWriter) text(x, y float64, anchor, style, s string) {
	fmt.Fprintf(&w.b, `<text x="%.1f" y="%.1f" text-anchor="%s" %s>%s</text>`+"\n", x, y, anchor, style, esc(s))
}

func (w *svgWriter) rect(x, y, wd, h float64, fill string) {
	fmt.Fprintf(&w.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x, y, max(wd, 0), h, fill)
}

func (w *svgWriter) line(x1, y1, x2, y2 float64, stroke string, width float64, dash string) {
	d := ""
	if dash != "" {
		d = fmt.Sprintf(` stroke-dasharray="%s"`, dash)
	}
	fmt.Fprintf(&w.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`+"\n", x1, y1, x2, y2, stroke, width, d)
}

func (w *svgWriter) doc(width, height float64) []byte {
	var out bytes.Buffer
	fmt.Fprintf(&out, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&out, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	out.Write(w.b.Bytes())
	out.WriteString("</svg>\n")
	return out.Bytes()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// used is the series that have a value in some row.
func (c *barChart) used() []int {
	var out []int
	for i := range series {
		for _, r := range c.rows {
			if r.has[i] {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// svg draws the chart.
func (c *barChart) svg() []byte {
	var w svgWriter
	used := c.used()
	labelW := 0.0
	for _, r := range c.rows {
		labelW = max(labelW, float64(len(r.short)*charWidth))
	}
	left := labelW + 24
	right := chartWidth - 90.0 // room for the value labels
	top := 74.0
	better := "higher is better"
	if c.metric.Better == Lower {
		better = "lower is better"
	}
	w.text(16, 24, "start", `font-size="16" font-weight="bold"`, fmt.Sprintf("%s (%s)", c.metric.Name, c.metric.Unit))
	w.text(16, 42, "start", `fill="#555"`, better)
	// The legend, above the plot.
	x := 16.0
	for _, i := range used {
		w.rect(x, 52, 12, 12, series[i].color)
		w.text(x+17, 62.5, "start", "", series[i].label)
		x += float64(len(series[i].label)*charWidth) + 40
	}
	hi := 0.0
	for _, r := range c.rows {
		for _, i := range used {
			if r.has[i] {
				hi = max(hi, r.values[i])
			}
		}
	}
	ticks := niceTicks(hi)
	if len(ticks) > 0 {
		hi = ticks[len(ticks)-1]
	}
	if hi <= 0 {
		hi = 1
	}
	scale := (right - left) / hi
	bars := func(r chartRow) []int { // the series drawn on a row: those it ran on
		var out []int
		for _, i := range used {
			if r.ran[i] {
				out = append(out, i)
			}
		}
		return out
	}
	bottom := top
	for _, r := range c.rows {
		bottom += float64(len(bars(r)))*(barHeight+barGap) - barGap + rowGap
	}
	for _, t := range ticks {
		tx := left + t*scale
		w.line(tx, top-4, tx, bottom, "#ddd", 1, "")
		w.text(tx, bottom+14, "middle", `fill="#555" font-size="11"`, tickLabel(t))
	}
	y := top
	for k, r := range c.rows {
		b := bars(r)
		rowH := float64(len(b))*(barHeight+barGap) - barGap
		if k%2 == 1 {
			w.rect(0, y-rowGap/2, chartWidth, rowH+rowGap, "#f6f6f6")
		}
		w.text(left-10, y+rowH/2+4, "end", "", r.short)
		for _, i := range b {
			switch {
			case r.has[i]:
				bw := r.values[i] * scale
				w.rect(left, y, bw, barHeight, series[i].color)
				w.text(left+bw+5, y+barHeight-4, "start", `font-size="11"`, Group(r.values[i]))
			default:
				w.text(left+5, y+barHeight-4, "start", `font-size="11" fill="#999"`, series[i].label+": no figure (failed or not measured)")
			}
			y += barHeight + barGap
		}
		y += rowGap - barGap
	}
	w.line(left, top-4, left, bottom, "#333", 1, "")
	w.text((left+right)/2, bottom+32, "middle", `fill="#333"`, c.metric.Unit)
	y = caption(&w, bottom+54, c.rows)
	return w.doc(chartWidth, y+8)
}

// caption writes each row's short name and whole name from y; it returns
// the y below it.
func caption(w *svgWriter, y float64, rows []chartRow) float64 {
	w.text(16, y, "start", `font-size="11" font-weight="bold" fill="#333"`, "Scenarios (tagwamp-bench name and parameters):")
	y += lineHeight
	for _, r := range rows {
		if r.short == r.name {
			w.text(16, y, "start", `font-size="11" fill="#333"`, r.name)
		} else {
			w.text(16, y, "start", `font-size="11" fill="#333"`, r.short+": "+r.name)
		}
		y += lineHeight - 2
	}
	return y
}

// tickLabel writes an axis tick: thousands separated, no needless
// decimals.
func tickLabel(t float64) string {
	if t >= 1000 {
		return Group(t)
	}
	return strconv.FormatFloat(t, 'f', -1, 64)
}

// niceTicks returns axis ticks from 0 to at least hi: 1, 2 or 5 times a
// power of ten apart, at most about 8 of them.
func niceTicks(hi float64) []float64 {
	if hi <= 0 || math.IsNaN(hi) || math.IsInf(hi, 0) {
		return nil
	}
	raw := hi / 6
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	var out []float64
	for t := 0.0; ; t += step {
		out = append(out, t)
		if t >= hi {
			return out
		}
	}
}

// summaryRow is one scenario's figure in the summary.
type summaryRow struct {
	label, name string
	ratio       float64 // >1: tagwamp ahead
}

// summaryChart compares tagwamp with the peer.
type summaryChart struct{ rows []summaryRow }

// summary gathers the summary metrics of every scenario both servers ran.
func (rep *Report) summary() summaryChart {
	var c summaryChart
	for _, name := range rep.names() {
		tw, pe := rep.pair(name)
		if tw == nil || pe == nil {
			continue
		}
		for _, m := range summaryMetrics {
			tm, ok1 := tw.Metric(m)
			pm, ok2 := pe.Metric(m)
			if !ok1 || !ok2 || tm.Value <= 0 || pm.Value <= 0 || math.IsNaN(tm.Value) || math.IsNaN(pm.Value) {
				continue
			}
			r := tm.Value / pm.Value
			if tm.Better == Lower {
				r = pm.Value / tm.Value
			}
			c.rows = append(c.rows, summaryRow{rep.short(name) + " · " + m, name, r})
		}
	}
	return c
}

// svg draws the summary: a bar per row from 1 on a log scale, to the right
// (green) when tagwamp is ahead, to the left (red) when behind.
func (c summaryChart) svg() []byte {
	var w svgWriter
	labelW := 0.0
	for _, r := range c.rows {
		labelW = max(labelW, float64(len(r.label)*charWidth))
	}
	left := labelW + 24
	right := chartWidth - 24.0
	top := 78.0
	w.text(16, 24, "start", `font-size="16" font-weight="bold"`, "tagwamp against the peer (centrifuge), per scenario")
	w.text(16, 42, "start", `fill="#555"`, "Above 1: tagwamp ahead by that factor. Higher-is-better figures: tagwamp / peer; lower-is-better figures")
	w.text(16, 58, "start", `fill="#555"`, "(latency, memory): peer / tagwamp. Log scale.")
	lo, hi := 0.5, 2.0
	for _, r := range c.rows {
		lo, hi = min(lo, r.ratio), max(hi, r.ratio)
	}
	lo = math.Pow(2, math.Floor(math.Log2(lo)))
	hi = math.Pow(2, math.Ceil(math.Log2(hi)))
	span := math.Log2(hi) - math.Log2(lo)
	xOf := func(v float64) float64 { return left + (math.Log2(v)-math.Log2(lo))/span*(right-left-60) + 30 }
	bottom := top + float64(len(c.rows))*(barHeight+6)
	for t := lo; t <= hi*1.0001; t *= 2 {
		tx := xOf(t)
		w.line(tx, top-4, tx, bottom, "#ddd", 1, "")
		w.text(tx, bottom+14, "middle", `fill="#555" font-size="11"`, strconv.FormatFloat(t, 'f', -1, 64)+"×")
	}
	one := xOf(1)
	y := top
	var names []chartRow
	for k, r := range c.rows {
		if k%2 == 1 {
			w.rect(0, y-3, chartWidth, barHeight+6, "#f6f6f6")
		}
		w.text(left-10, y+barHeight-4, "end", "", r.label)
		x := xOf(r.ratio)
		label := strconv.FormatFloat(r.ratio, 'f', 2, 64) + "×"
		if r.ratio >= 1 {
			w.rect(one, y, x-one, barHeight, "#2ca02c")
			w.text(x+5, y+barHeight-4, "start", `font-size="11"`, label)
		} else {
			w.rect(x, y, one-x, barHeight, "#d62728")
			w.text(x-5, y+barHeight-4, "end", `font-size="11"`, label)
		}
		if !slices.ContainsFunc(names, func(n chartRow) bool { return n.name == r.name }) {
			names = append(names, chartRow{name: r.name, short: strings.SplitN(r.label, " · ", 2)[0]})
		}
		y += barHeight + 6
	}
	w.line(one, top-6, one, bottom, "#333", 1.5, "")
	w.text(one, bottom+30, "middle", `fill="#333"`, "1× = even")
	if len(c.rows) == 0 {
		w.text(left, top+12, "start", `fill="#999"`, "no scenario ran on both servers")
	}
	y = caption(&w, bottom+54, names)
	return w.doc(chartWidth, y+8)
}
