package cluster_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"slices"
	"strconv"
	gosync "sync"
	"testing"
)

// wireProxy sits between one node and its NATS server and counts what
// crosses it, per direction and per NATS protocol operation (PUB, MSG,
// SUB, UNSUB, PING, PONG, ...), bytes of the whole operation included:
// the exact broker traffic of the node, whatever nats.go does.
type wireProxy struct {
	ln     net.Listener
	target string

	mu    gosync.Mutex
	ops   map[string]opCount // "out SUB": node to NATS; "in MSG": NATS to node
	conns []net.Conn
	wg    gosync.WaitGroup
}

// opCount is how many operations of one kind crossed, and their bytes.
type opCount struct{ N, Bytes int }

// startProxy proxies a loopback port to the NATS server at target
// ("127.0.0.1:port"), closed with the test.
func startProxy(t testing.TB, target string) *wireProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &wireProxy{ln: ln, target: target, ops: make(map[string]opCount)}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *wireProxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *wireProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, s, "out")
		go p.pipe(s, c, "in")
	}
}

// pipe copies from src to dst, one protocol operation at a time, and
// closes both when either side ends. It counts an operation before it
// forwards it: once the other side has seen an operation, so has the
// count (a count taken after forwarding could lag behind the server's
// answer, and a snapshot taken then missed what the answer acknowledged).
func (p *wireProxy) pipe(src, dst net.Conn, dir string) {
	defer p.wg.Done()
	defer src.Close()
	defer dst.Close()
	r := bufio.NewReaderSize(src, 64<<10)
	var msg []byte
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		msg = append(msg[:0], line...)
		f := bytes.Fields(line)
		op := ""
		if len(f) > 0 {
			op = string(bytes.ToUpper(f[0]))
		}
		if op == "PUB" || op == "MSG" || op == "HPUB" || op == "HMSG" {
			size, _ := strconv.Atoi(string(f[len(f)-1])) // the total size is last
			n := len(msg)
			msg = slices.Grow(msg, size+2)[:n+size+2]
			if _, err := io.ReadFull(r, msg[n:]); err != nil {
				return
			}
		}
		if op != "" {
			p.mu.Lock()
			c := p.ops[dir+" "+op]
			c.N++
			c.Bytes += len(msg)
			p.ops[dir+" "+op] = c
			p.mu.Unlock()
		}
		if _, err := dst.Write(msg); err != nil {
			return
		}
	}
}

// cut closes the proxy and every connection through it: the node loses
// NATS, without a word to anyone (as if it had crashed).
func (p *wireProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// snapshot returns a copy of the counts so far.
func (p *wireProxy) snapshot() map[string]opCount {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]opCount, len(p.ops))
	for k, v := range p.ops {
		m[k] = v
	}
	return m
}

// since returns the counts that grew since before, without the zeros.
func (p *wireProxy) since(before map[string]opCount) map[string]opCount {
	now := p.snapshot()
	d := make(map[string]opCount)
	for k, v := range now {
		b := before[k]
		if v.N != b.N || v.Bytes != b.Bytes {
			d[k] = opCount{v.N - b.N, v.Bytes - b.Bytes}
		}
	}
	return d
}
