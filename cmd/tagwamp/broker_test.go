package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestRunBrokerDown: with broker.nats configured and no NATS server, the
// command serves (local delivery needs no NATS) and /readyz reports the
// outage.
func TestRunBrokerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there
	file := writeFile(t, "broker:\n  nats:\n    urls: [\"nats://"+dead+"\"]\n")
	r := startRun(t, "-config", file, "-debug-addr", "127.0.0.1:0")
	resp, err := http.Get("http://" + r.addr.String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "broker disconnected") {
		t.Fatalf("readyz: %d %s", resp.StatusCode, b)
	}
	// The cluster's counters are on /metrics, and say the broker is down.
	resp, err = http.Get("http://" + r.debug.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "tagwamp_cluster_connected 0") || !strings.Contains(string(b), "tagwamp_cluster_forwarded_total") {
		t.Fatalf("/metrics lacks the cluster's counters:\n%s", b)
	}
}
