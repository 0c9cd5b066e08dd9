package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/cluster"
	"github.com/tagwamp/tagwamp/internal/leakcheck"
	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// TestMain fails the run if the package's or nats.go's goroutines outlive
// the tests.
func TestMain(m *testing.M) {
	leakcheck.Main(m, leakcheck.Options{Wait: 10 * time.Second, Leaked: func(g string) bool {
		return strings.Contains(g, "tagwamp/cluster.") || strings.Contains(g, "nats-io/nats.go")
	}})
}

// natsd is a nats-server process on a loopback port, the Debian binary:
// the module does not depend on nats-server's code.
type natsd struct {
	t    testing.TB
	bin  string
	port int
	args []string // beyond the address and the port
	cmd  *exec.Cmd
}

// startNATS starts nats-server on a free loopback port and stops it with
// the test. Without the binary the test fails under CI=true and is
// skipped elsewhere.
func startNATS(t testing.TB) *natsd {
	t.Helper()
	return startNATSWith(t, freePort(t))
}

// startNATSWith starts nats-server on port with args.
func startNATSWith(t testing.TB, port int, args ...string) *natsd {
	t.Helper()
	n := &natsd{t: t, bin: natsBin(t), port: port, args: args}
	n.start()
	t.Cleanup(n.stop)
	return n
}

// natsBin returns the path of nats-server, or ends the test.
func natsBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nats-server", "/usr/bin/nats-server"} {
			if _, err := os.Stat(p); err == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("nats-server not found: apt-get install nats-server")
		}
		t.Skip("apt-get install nats-server")
	}
	return bin
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (n *natsd) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

// start runs the server and waits until it accepts connections.
func (n *natsd) start() {
	n.t.Helper()
	n.cmd = exec.Command(n.bin, append([]string{"-a", "127.0.0.1", "-p", strconv.Itoa(n.port)}, n.args...)...)
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(n.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("nats-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server, if it runs.
func (n *natsd) stop() {
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Kill()
	n.cmd.Wait()
	n.cmd = nil
}

// node is one router of the cluster and its broker.
type node struct {
	srv *router.Server
	b   *cluster.NATS
	url string
}

// startNode serves a router joined to the NATS server at natsURL on a
// loopback port, both closed with the test.
func startNode(t testing.TB, natsURL string) *node {
	t.Helper()
	return startNodeWith(t, cluster.Options{URLs: []string{natsURL}})
}

// startNodeWith is startNode with the broker's options o (its Logger
// discarded).
func startNodeWith(t testing.TB, o cluster.Options) *node {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	o.Logger = log
	b, err := cluster.NewNATS(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close) // after the server's Shutdown below
	srv := router.New(router.Options{Broker: b, Logger: log})
	b.Attach(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	n := &node{srv: srv, b: b, url: "ws://" + ln.Addr().String() + "/"}
	waitFor(t, func() bool { return srv.Ready() == nil }, "the node ready")
	return n
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSubjects waits until n listens on want subjects, acknowledged by
// the NATS server.
func (n *node) waitSubjects(t testing.TB, want uint64) {
	t.Helper()
	waitFor(t, func() bool { return n.b.Stats().Subjects == want }, fmt.Sprintf("%d subjects", want))
}

// dial opens a WAMP session on n.
func (n *node) dial(t testing.TB) *wstest.Client {
	t.Helper()
	return wstest.Dial(t, n.url, wstest.Options{})
}

// subscribe sends SUBSCRIBEs and waits until c's node handled them (a
// CALL is answered after them).
func subscribe(t testing.TB, c *wstest.Client, topics ...string) {
	t.Helper()
	for _, tp := range topics {
		c.Send(fmt.Sprintf(`[5,%q]`, tp))
	}
	sync(t, c)
}

// sync waits until c's node handled what c sent.
func sync(t testing.TB, c *wstest.Client) {
	t.Helper()
	c.Send(`[2,"sync","http://tagwamp.test/sync"]`)
	for !strings.HasPrefix(c.Recv(), `[4,"sync"`) {
	}
}

const quiet = 200 * time.Millisecond

func TestPublishAcrossNodes(t *testing.T) {
	nd := startNATS(t)
	a, b := startNode(t, nd.url()), startNode(t, nd.url())
	const base = "http://example.com/news"
	fr := b.dial(t)
	subscribe(t, fr, base+"?user=42&lang=FR") // not in canonical order: EVENT keeps it
	en := b.dial(t)
	subscribe(t, en, base+"?lang=EN")
	plain, err := wstest.Open(b.url+"?tags="+`%7B%22lang%22%3A%22FR%22%7D`, wstest.Options{Protocols: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	plain.T = t
	t.Cleanup(func() { plain.Conn.Close() })
	b.waitSubjects(t, 5) // base, user=42, lang=FR, lang=EN, all
	pub := a.dial(t)

	pub.Send(`[7,"` + base + `?lang=FR",{"t":"Bonjour"}]`)
	if got, want := fr.Recv(), `[8,"`+base+`?user=42&lang=FR",{"t":"Bonjour"}]`; got != want {
		t.Fatalf("remote subscriber got %s, want %s", got, want)
	}
	pub.Send(`[7,"?lang=FR",{"t":2}]`)
	if got, want := fr.Recv(), `[8,"`+base+`?user=42&lang=FR",{"t":2}]`; got != want {
		t.Fatalf("remote subscriber got %s, want %s", got, want)
	}
	if got := plain.Recv(); got != `{"t":2}` {
		t.Fatalf("remote plain connection got %s", got)
	}
	en.ExpectNothing(quiet)
	fr.ExpectNothing(0)
	plain.ExpectNothing(0)

	// A server-side publication travels too.
	if _, err := a.srv.Publish(base+"?lang=EN", []byte(`3`)); err != nil {
		t.Fatal(err)
	}
	if got, want := en.Recv(), `[8,"`+base+`?lang=EN",3]`; got != want {
		t.Fatalf("remote subscriber got %s, want %s", got, want)
	}
	if s := a.b.Stats(); s.Forwarded != 3 || s.Unforwarded != 0 {
		t.Errorf("publisher's broker: %+v", s)
	}
}

func TestOptionsAcrossNodes(t *testing.T) {
	nd := startNATS(t)
	a, b := startNode(t, nd.url()), startNode(t, nd.url())
	s1, s2 := b.dial(t), b.dial(t)
	subscribe(t, s1, "news?lang=FR")
	subscribe(t, s2, "news?lang=FR")
	b.waitSubjects(t, 3)
	pub := a.dial(t)
	pub.Send(fmt.Sprintf(`[7,"news?lang=FR",1,[%q]]`, s1.SessionID))    // exclude s1
	pub.Send(fmt.Sprintf(`[7,"news?lang=FR",2,[],[%q]]`, s1.SessionID)) // only s1
	pub.Send(`[7,"news?lang=FR",3,[],[]]`)                              // nobody
	pub.Send(`[7,"news?lang=FR",4,true]`)                               // all of them: the publisher is elsewhere
	if got := s2.Recv(); got != `[8,"news?lang=FR",1]` {
		t.Fatalf("s2 got %s", got)
	}
	if got := s1.Recv(); got != `[8,"news?lang=FR",2]` {
		t.Fatalf("s1 got %s", got)
	}
	for _, c := range []*wstest.Client{s1, s2} {
		if got := c.Recv(); got != `[8,"news?lang=FR",4]` {
			t.Fatalf("got %s", got)
		}
		c.ExpectNothing(quiet)
	}
	// PublishWith's lists travel as well.
	if _, err := a.srv.PublishWith(router.BackendPublication{Topic: "news", Event: []byte(`5`),
		Eligible: []string{s2.SessionID}}); err != nil {
		t.Fatal(err)
	}
	if got := s2.Recv(); got != `[8,"news?lang=FR",5]` {
		t.Fatalf("s2 got %s", got)
	}
	s1.ExpectNothing(quiet)
}

// TestNoInterestNoMessages: a node whose subscriptions hold none of a
// publication's routing tag receives nothing from NATS.
func TestNoInterestNoMessages(t *testing.T) {
	nd := startNATS(t)
	a, b, c := startNode(t, nd.url()), startNode(t, nd.url()), startNode(t, nd.url())
	rb, rc := b.dial(t), c.dial(t)
	subscribe(t, rb, "news?lang=FR&user=42")
	subscribe(t, rc, "sport?lang=EN&user=43")
	b.waitSubjects(t, 4)
	c.waitSubjects(t, 4)
	pub := a.dial(t)
	const n = 100
	for i := range n {
		switch i % 3 {
		case 0:
			pub.Send(fmt.Sprintf(`[7,"news?lang=FR",%d]`, i))
		case 1:
			pub.Send(fmt.Sprintf(`[7,"?user=42",%d]`, i))
		default:
			pub.Send(fmt.Sprintf(`[7,"news",%d]`, i))
		}
	}
	for i := range n {
		if got, want := rb.Recv(), fmt.Sprintf(`[8,"news?lang=FR&user=42",%d]`, i); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	time.Sleep(quiet)
	if got := b.b.Stats().Received; got != n {
		t.Errorf("the matching node received %d messages, want %d", got, n)
	}
	if got := c.b.Stats().Received; got != 0 {
		t.Errorf("the node without a matching subscription received %d messages from NATS, want 0", got)
	}
	rc.ExpectNothing(0)
}

func TestOrderAcrossNodes(t *testing.T) {
	nd := startNATS(t)
	a, b := startNode(t, nd.url()), startNode(t, nd.url())
	r := b.dial(t)
	// Subscriptions on several subjects, so that order across subjects
	// is tested too.
	subscribe(t, r, "news?user=42&lang=FR")
	b.waitSubjects(t, 4)
	pub := a.dial(t)
	const n = 1000
	topics := []string{"news?user=42", "news?lang=FR", "news", "?user=42&lang=FR"}
	for i := range n {
		pub.Send(fmt.Sprintf(`[7,%q,%d]`, topics[i%len(topics)], i))
	}
	for i := range n {
		if got, want := r.Recv(), fmt.Sprintf(`[8,"news?user=42&lang=FR",%d]`, i); got != want {
			t.Fatalf("event %d: got %s, want %s", i, got, want)
		}
	}
}

func TestUnsubscribeWithdrawsInterest(t *testing.T) {
	nd := startNATS(t)
	a, b, c := startNode(t, nd.url()), startNode(t, nd.url()), startNode(t, nd.url())
	rb, rc := b.dial(t), c.dial(t)
	subscribe(t, rb, "news?user=7")
	subscribe(t, rc, "news?user=7")
	b.waitSubjects(t, 3)
	c.waitSubjects(t, 3)
	pub := a.dial(t)
	pub.Send(`[7,"news?user=7",1]`)
	rb.Recv()
	rc.Recv()
	rb.Send(`[6,"news?user=7"]`)
	sync(t, rb)
	b.waitSubjects(t, 0)
	for i := range 10 {
		pub.Send(fmt.Sprintf(`[7,"news?user=7",%d]`, i))
	}
	for range 10 {
		rc.Recv() // c still receives
	}
	time.Sleep(quiet)
	if got := b.b.Stats().Received; got != 1 {
		t.Errorf("b received %d messages after unsubscribing, want the 1 before", got)
	}
	rb.ExpectNothing(0)
	// A closed session withdraws its interest too.
	rc.Conn.Close()
	c.waitSubjects(t, 0)
}

// TestNATSRestart stops the NATS server in the middle of a publication
// stream and starts it again.
func TestNATSRestart(t *testing.T) {
	nd := startNATS(t)
	a, b := startNode(t, nd.url()), startNode(t, nd.url())
	local, remote := a.dial(t), b.dial(t)
	subscribe(t, local, "news?user=1")
	subscribe(t, remote, "news?user=1")
	b.waitSubjects(t, 3)
	pub := a.dial(t)
	seq := 0
	publish := func() {
		pub.Send(fmt.Sprintf(`[7,"news?user=1",%d]`, seq))
		seq++
	}
	seqOf := func(m string) int {
		var v int
		if _, err := fmt.Sscanf(m, `[8,"news?user=1",%d]`, &v); err != nil {
			t.Fatalf("unexpected message %s", m)
		}
		return v
	}
	for range 20 {
		publish()
	}
	for i := range 20 {
		if got := seqOf(remote.Recv()); got != i {
			t.Fatalf("remote got %d, want %d", got, i)
		}
	}

	nd.stop()
	waitFor(t, func() bool { return errors.Is(a.srv.Ready(), router.ErrBrokerDisconnected) }, "Ready to report the outage")
	if b.b.Connected() {
		t.Error("b's broker reports a connection")
	}
	before := a.b.Stats().Unforwarded
	for range 20 {
		publish()
	}
	for i := range 40 { // local delivery never stopped
		if got := seqOf(local.Recv()); got != i {
			t.Fatalf("local got %d, want %d", got, i)
		}
	}
	if got := a.b.Stats().Unforwarded - before; got != 20 {
		t.Errorf("%d publications counted unforwarded during the outage, want 20", got)
	}

	nd.start()
	restarted := time.Now()
	last := 19
	for resumed := false; !resumed; {
		if time.Since(restarted) > 5*time.Second {
			t.Fatal("remote delivery did not resume within 5s")
		}
		publish()
		if got := seqOf(local.Recv()); got != seq-1 {
			t.Fatalf("local got %d, want %d", got, seq-1)
		}
		for {
			m, err := remote.Next(20 * time.Millisecond)
			if err != nil {
				break
			}
			got := seqOf(m)
			if got <= last {
				t.Fatalf("remote got %d after %d", got, last)
			}
			last, resumed = got, true
		}
	}
	t.Logf("remote delivery resumed %v after the restart", time.Since(restarted).Round(time.Millisecond))
	waitFor(t, func() bool { return a.srv.Ready() == nil }, "Ready after the outage")
}
