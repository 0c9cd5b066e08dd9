package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tagwamp/tagwamp/bench/internal/sysstat"
	"github.com/tagwamp/tagwamp/bench/internal/wire"
)

// natsBinary is where the cluster scenarios look for nats-server first
// (Debian's package); then $PATH.
const natsBinary = "/usr/sbin/nats-server"

// findNATS is the path of nats-server, or an error saying it is missing.
func findNATS() (string, error) {
	if _, err := os.Stat(natsBinary); err == nil {
		return natsBinary, nil
	}
	p, err := exec.LookPath("nats-server")
	if err != nil {
		return "", fmt.Errorf("nats-server not found (%s or $PATH): the cluster scenarios need it (Debian: apt-get install nats-server)", natsBinary)
	}
	return p, nil
}

// natsd is a nats-server process on loopback ports, with its monitoring
// port (-m) for the traffic figures.
type natsd struct {
	cmd     *exec.Cmd
	addr    string // host:port of the client port
	monitor string // host:port of the monitoring port
	done    chan error
}

// startNATS starts nats-server on free loopback ports and waits until
// both listen.
func startNATS(ctx context.Context, pt *ports) (*natsd, error) {
	bin, err := findNATS()
	if err != nil {
		return nil, err
	}
	addr, err := pt.free()
	if err != nil {
		return nil, err
	}
	mon, err := pt.free()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	_, mport, _ := net.SplitHostPort(mon)
	cmd := exec.Command(bin, "-a", pt.host, "-p", port, "-m", mport)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting nats-server: %w", err)
	}
	n := &natsd{cmd: cmd, addr: addr, monitor: mon, done: make(chan error, 1)}
	go func() { n.done <- cmd.Wait() }()
	if err := waitListening(ctx, n.done, addr, mon); err != nil {
		var exited *exitedError
		if !errors.As(err, &exited) {
			n.stop()
		}
		return nil, fmt.Errorf("nats-server %w", err)
	}
	return n, nil
}

// varz is the traffic part of nats-server's /varz.
type varz struct {
	InMsgs   int64 `json:"in_msgs"`
	OutMsgs  int64 `json:"out_msgs"`
	InBytes  int64 `json:"in_bytes"`
	OutBytes int64 `json:"out_bytes"`
	Mem      int64 `json:"mem"`
}

// sub is v minus a.
func (v varz) sub(a varz) varz {
	return varz{v.InMsgs - a.InMsgs, v.OutMsgs - a.OutMsgs, v.InBytes - a.InBytes, v.OutBytes - a.OutBytes, v.Mem}
}

// varz reads the traffic counters.
func (n *natsd) varz(ctx context.Context) (varz, error) {
	var b strings.Builder
	if err := sysstat.Get(ctx, "http://"+n.monitor+"/varz", &b); err != nil {
		return varz{}, fmt.Errorf("nats-server /varz: %w", err)
	}
	var v varz
	if err := json.Unmarshal([]byte(b.String()), &v); err != nil {
		return varz{}, fmt.Errorf("nats-server /varz: %w", err)
	}
	return v, nil
}

// subscriptions is nats-server's count of subscriptions (/subsz).
func (n *natsd) subscriptions(ctx context.Context) (int64, error) {
	var b strings.Builder
	if err := sysstat.Get(ctx, "http://"+n.monitor+"/subsz", &b); err != nil {
		return 0, fmt.Errorf("nats-server /subsz: %w", err)
	}
	var v struct {
		N int64 `json:"num_subscriptions"`
	}
	if err := json.Unmarshal([]byte(b.String()), &v); err != nil {
		return 0, fmt.Errorf("nats-server /subsz: %w", err)
	}
	return v.N, nil
}

// stop ends nats-server (SIGTERM, then SIGKILL after 10s).
func (n *natsd) stop() {
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
}

// cluster is tagwamp nodes joined by one nats-server.
type cluster struct {
	nats  *natsd
	nodes []*server
}

// brokerConfig is the broker section of a cluster node's configuration.
const brokerConfig = `broker:
  nats:
    urls: [nats://%s]
    subject_prefix: bench
`

// startCluster starts nats-server and n tagwamp nodes joined by it, the
// nodes a few at a time.
func (b *builds) startCluster(ctx context.Context, n int) (*cluster, error) {
	nd, err := startNATS(ctx, b.ports)
	if err != nil {
		return nil, err
	}
	c := &cluster{nats: nd, nodes: make([]*server, n)}
	extra := fmt.Sprintf(brokerConfig, nd.addr)
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c.nodes[i], errs[i] = b.startWith(ctx, wire.Tagwamp, extra)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("cluster node: %w", err)
		}
	}
	if err := c.waitConnected(ctx, 30*time.Second); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// waitConnected waits until every node reports its NATS connection up.
func (c *cluster) waitConnected(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, s := range c.nodes {
		for {
			m, err := sysstat.Scrape(ctx, "http://"+s.debug+"/metrics")
			if err == nil && m["tagwamp_cluster_connected"] == 1 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %s not connected to NATS after %s (%v)", s.addr, timeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// urls are the nodes' WebSocket URLs.
func (c *cluster) urls() []string {
	u := make([]string, len(c.nodes))
	for i, s := range c.nodes {
		u[i] = "ws://" + s.addr
	}
	return u
}

// cpu is the nodes' CPU seconds so far, added up.
func (c *cluster) cpu() (float64, error) {
	t := 0.0
	for _, s := range c.nodes {
		v, err := s.cpu()
		if err != nil {
			return 0, err
		}
		t += v
	}
	return t, nil
}

// rss is the nodes' resident memory now, added up.
func (c *cluster) rss() (int64, error) {
	var t int64
	for _, s := range c.nodes {
		v, err := s.rss()
		if err != nil {
			return 0, err
		}
		t += v
	}
	return t, nil
}

// stop ends the nodes, then nats-server.
func (c *cluster) stop() {
	var wg sync.WaitGroup
	for _, s := range c.nodes {
		if s != nil {
			wg.Go(s.stop)
		}
	}
	wg.Wait()
	c.nats.stop()
}
