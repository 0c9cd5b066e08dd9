// Command tagwamp-bench is tagwamp's load harness: it builds and starts
// the tagwamp server (./cmd/tagwamp) and the peer (bench/peer, a
// centrifuge node in its own module) as separate processes, drives them
// with generator processes (package gen, this binary re-executed), and
// reports server CPU, generator CPU, server memory and each scenario's
// figures, tagwamp beside the peer.
//
//	go run ./bench/cmd/tagwamp-bench [flags] scenario...
//	go run ./bench/cmd/tagwamp-bench -suite standard -json bench/results.json -charts bench/charts
//
// Scenarios: connect, idle, fanout, burst (also fanout -burst),
// floor, rpc, mixed (or all); their parameters are flags (-h lists them). Two more run
// on tagwamp only and need nats-server: cluster (fanout on one node and on
// -nodes nodes joined by one nats-server, connections spread over the
// nodes, in alternating rounds of one invocation) and million (-conns idle
// sessions over -nodes nodes, then publications to one session in -shards
// and to all, timed to the last delivery; bench/million.sh drives it from
// 100k to 1M sessions). A result whose generator used more
// CPU than the server is marked CLIENT-BOUND. The exit status is 1 when a
// scenario failed (every delivery and every call answer is counted and
// checked), 2 for bad flags.
package main
