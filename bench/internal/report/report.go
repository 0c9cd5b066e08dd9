package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Better says which way a metric improves.
type Better string

// The directions.
const (
	Higher Better = "higher"
	Lower  Better = "lower"
	// Neither marks a count that describes the run (samples, totals):
	// it gets no ratio.
	Neither Better = "neither"
)

// Metric is one measured figure.
type Metric struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Better Better  `json:"better"`
}

// Result is one scenario run against one server.
type Result struct {
	Name     string         `json:"name"`            // scenario and its parameters, the same for both servers
	Short    string         `json:"short,omitempty"` // a short label for charts ("fanout 10k w1 per-sub")
	Load     string         `json:"load,omitempty"`  // the machine's load average when the run began (/proc/loadavg)
	Scenario string         `json:"scenario"`        // connect, idle, fanout, burst, rpc, mixed
	Server   string         `json:"server"`          // tagwamp or peer
	Params   map[string]any `json:"params"`
	// Seconds is the measured window; the CPU figures cover it.
	Seconds     float64  `json:"seconds"`
	ServerCPU   float64  `json:"serverCpuSeconds"`
	GenCPU      float64  `json:"generatorCpuSeconds"`
	ServerRSS   int64    `json:"serverRssBytes"`
	ClientBound bool     `json:"clientBound"` // the generator used more CPU than the server
	Metrics     []Metric `json:"metrics"`
	Err         string   `json:"error,omitempty"`
}

// Add appends a metric.
func (r *Result) Add(name string, v float64, unit string, b Better) {
	r.Metrics = append(r.Metrics, Metric{name, v, unit, b})
}

// Metric returns the metric called name.
func (r *Result) Metric(name string) (Metric, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Finish sets ClientBound from the CPU figures.
func (r *Result) Finish() { r.ClientBound = r.GenCPU > r.ServerCPU }

// Machine describes where a report was made.
type Machine struct {
	CPUs   int    `json:"cpus"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	Go     string `json:"go"`
	Model  string `json:"cpuModel,omitempty"`
	Date   string `json:"date"`
}

// ThisMachine describes the machine running the harness.
func ThisMachine(model string) Machine {
	return Machine{runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), model,
		time.Now().UTC().Format(time.RFC3339)}
}

// LoadAvg is the 1, 5 and 15 minute load averages of /proc/loadavg, or
// "" where it cannot be read: other work on the machine skews a run.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Ratio is tagwamp's figure over the peer's for one metric of one scenario.
type Ratio struct {
	Name   string  `json:"name"`
	Metric string  `json:"metric"`
	Value  float64 `json:"ratio"` // tagwamp / peer
	Ahead  bool    `json:"ahead"` // tagwamp is better
}

// Report is a whole run.
type Report struct {
	Machine   Machine  `json:"machine"`
	Command   string   `json:"command"`
	LoadStart string   `json:"loadStart,omitempty"` // load average (1, 5, 15 min) when the run began
	LoadEnd   string   `json:"loadEnd,omitempty"`   // and when it ended
	Results   []Result `json:"results"`
	Ratios    []Ratio  `json:"ratios"`
}

// Add appends a result.
func (rep *Report) Add(r Result) { rep.Results = append(rep.Results, r) }

// pair finds the tagwamp and peer results of name.
func (rep *Report) pair(name string) (tw, pe *Result) {
	for i := range rep.Results {
		r := &rep.Results[i]
		if r.Name != name || r.Err != "" {
			continue
		}
		switch r.Server {
		case "tagwamp":
			tw = r
		case "peer":
			pe = r
		}
	}
	return tw, pe
}

// names lists result names in first-seen order.
func (rep *Report) names() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rep.Results {
		if !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r.Name)
		}
	}
	return out
}

// ComputeRatios fills Ratios from results run on both servers.
func (rep *Report) ComputeRatios() {
	rep.Ratios = nil
	for _, name := range rep.names() {
		tw, pe := rep.pair(name)
		if tw == nil || pe == nil {
			continue
		}
		for _, m := range tw.Metrics {
			pm, ok := pe.Metric(m.Name)
			if !ok || m.Better == Neither || pm.Value == 0 || math.IsNaN(m.Value) || math.IsNaN(pm.Value) {
				continue
			}
			ratio := m.Value / pm.Value
			ahead := ratio > 1
			if m.Better == Lower {
				ahead = ratio < 1
			}
			rep.Ratios = append(rep.Ratios, Ratio{name, m.Name, ratio, ahead})
		}
	}
}

// WriteJSON writes the report, ratios computed, indented.
func (rep *Report) WriteJSON(w io.Writer) error {
	rep.ComputeRatios()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// ReadJSON reads a report WriteJSON wrote.
func ReadJSON(r io.Reader) (*Report, error) {
	var rep Report
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return &rep, nil
}

// WriteTable writes every scenario as a block: its parameters, the common
// figures, then each metric with tagwamp, the peer and the ratio.
func (rep *Report) WriteTable(w io.Writer) error {
	rep.ComputeRatios()
	if rep.LoadStart != "" {
		fmt.Fprintf(w, "load average (1 5 15 min): %s at the start, %s at the end\n", rep.LoadStart, rep.LoadEnd)
	}
	for _, name := range rep.names() {
		fmt.Fprintf(w, "\n== %s\n", name)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		var rs []*Result
		for i := range rep.Results {
			if rep.Results[i].Name == name {
				rs = append(rs, &rep.Results[i])
			}
		}
		fmt.Fprintf(tw, "%s\t", "figure")
		for _, r := range rs {
			fmt.Fprintf(tw, "%s\t", r.Server)
		}
		if len(rs) == 2 {
			fmt.Fprintf(tw, "%s\t", "tagwamp/peer")
		}
		fmt.Fprintln(tw)
		row := func(label string, f func(r *Result) string, ratio string) {
			fmt.Fprintf(tw, "%s\t", label)
			for _, r := range rs {
				fmt.Fprintf(tw, "%s\t", f(r))
			}
			if len(rs) == 2 {
				fmt.Fprintf(tw, "%s\t", ratio)
			}
			fmt.Fprintln(tw)
		}
		for _, r := range rs {
			if r.Err != "" {
				fmt.Fprintf(w, "%s FAILED: %s\n", r.Server, r.Err)
			}
		}
		row("window s", func(r *Result) string { return num(r.Seconds) }, "")
		row("server CPU s", func(r *Result) string { return num(r.ServerCPU) }, "")
		row("generator CPU s", func(r *Result) string {
			s := num(r.GenCPU)
			if r.ClientBound {
				s += " CLIENT-BOUND"
			}
			return s
		}, "")
		row("server RSS MiB", func(r *Result) string { return num(float64(r.ServerRSS) / (1 << 20)) }, "")
		row("load average at start", func(r *Result) string { return strings.ReplaceAll(r.Load, " ", "/") }, "")
		for _, m := range unionMetrics(rs) {
			ratio := ""
			for _, q := range rep.Ratios {
				if q.Name == name && q.Metric == m.Name {
					ratio = fmt.Sprintf("%.2f", q.Value)
					if q.Ahead {
						ratio += " ahead"
					} else {
						ratio += " behind"
					}
				}
			}
			row(m.Name+" ("+m.Unit+")", func(r *Result) string {
				if v, ok := r.Metric(m.Name); ok {
					return num(v.Value)
				}
				return "-"
			}, ratio)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "params: %s\n", params(rs))
	}
	return nil
}

func unionMetrics(rs []*Result) []Metric {
	var out []Metric
	seen := map[string]bool{}
	for _, r := range rs {
		for _, m := range r.Metrics {
			if !seen[m.Name] {
				seen[m.Name] = true
				out = append(out, m)
			}
		}
	}
	return out
}

func params(rs []*Result) string {
	if len(rs) == 0 {
		return ""
	}
	var keys []string
	for k := range rs[0].Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v ", k, rs[0].Params[k])
	}
	return strings.TrimSpace(b.String())
}

// num renders a figure with 3-4 significant digits.
func num(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "NaN"
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
