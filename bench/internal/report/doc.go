// Package report holds the harness's results and renders them: a table on
// the terminal, JSON for machines, SVG charts (written directly, one per
// metric, and a summary of the ratios) for bench/RESULTS.md. Results of the same scenario on tagwamp and on the
// peer are paired by name and shown with their ratio tagwamp/peer.
//
//	var rep report.Report
//	rep.Add(res)
//	rep.WriteTable(os.Stdout)
//	rep.WriteJSON(f)
//	rep.WriteCharts("bench/charts")
//
// Nothing here is safe for concurrent use.
package report
