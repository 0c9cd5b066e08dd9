package gen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tagwamp/tagwamp/bench/internal/wire"
)

// worker is the state of one worker process.
type worker struct {
	spec  Spec
	proto wire.Proto
	conns []atomic.Pointer[conn]
	loops []*loop

	running      atomic.Bool
	seq          atomic.Uint64 // publications sent by this worker, numbering targets
	sent         atomic.Int64
	sentGroup    []atomic.Int64
	sentPersonal atomic.Int64

	connectHist *hdr.Histogram
	setup       time.Duration
	pacerStop   chan struct{}
	pacerDone   chan struct{}

	board       *board // nil unless Spec.Complete
	completed   atomic.Int64
	maxInflight atomic.Int64           // the most publications one publisher had incomplete (Complete)
	failed      atomic.Pointer[string] // why a publisher gave up (a stalled publication), or nil
	quit        chan struct{}          // closed when the worker ends: stops the watchdog
}

// pacerStopTimeout bounds how long stop waits for the pacer, which may be
// inside a write the server does not read (conn.write gives up after
// writeTimeout).
const pacerStopTimeout = writeTimeout + 10*time.Second

// Serve runs a worker: it reads its Spec from the first line of in, sets
// every connection up, answers with a Stats line on out, then takes
// commands until CmdQuit or the end of in.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	return serve(ctx, in, out, func() []*os.File {
		return []*os.File{os.NewFile(3, "board"), os.NewFile(4, "board-pipe")}
	})
}

// serve is Serve; boardFiles gives the board's memory and pipe when the
// spec asks for completion.
func serve(ctx context.Context, in io.Reader, out io.Writer, boardFiles func() []*os.File) error {
	rd := bufio.NewReader(in)
	enc := json.NewEncoder(out)
	line, err := rd.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("gen: worker: reading spec: %w", err)
	}
	var spec Spec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("gen: worker: spec: %w", err)
	}
	w, err := newWorker(spec, boardFiles)
	if err == nil {
		defer close(w.quit)
		err = w.connect(ctx)
	}
	if err != nil {
		enc.Encode(Stats{Err: err.Error()})
		return err
	}
	st := w.stats()
	st.ConnectLatency = w.connectHist.Export()
	if err := enc.Encode(st); err != nil {
		return err
	}
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil // the harness went away
		}
		st, quit := w.command(strings.Fields(line))
		if err := enc.Encode(st); err != nil || quit {
			return err
		}
	}
}

func newWorker(spec Spec, boardFiles func() []*os.File) (*worker, error) {
	spec.withDefaults()
	if err := spec.validate(); err != nil {
		return nil, err
	}
	p, _ := wire.For(spec.Server)
	w := &worker{
		spec:        spec,
		proto:       p,
		conns:       make([]atomic.Pointer[conn], spec.Count),
		sentGroup:   make([]atomic.Int64, spec.Groups),
		connectHist: NewHistogram(),
		quit:        make(chan struct{}),
	}
	if spec.Complete {
		f := boardFiles()
		if len(f) != 2 {
			return nil, fmt.Errorf("gen: completion without the board's files")
		}
		b, err := openBoard(&w.spec, f[0], f[1])
		if err != nil {
			return nil, err
		}
		w.board = b
		if spec.Role == RolePublisher {
			go w.completions()
			go w.watchdog()
		}
	}
	for range spec.Loops {
		l, err := newLoop(w)
		if err != nil {
			return nil, fmt.Errorf("gen: epoll: %w", err)
		}
		w.loops = append(w.loops, l)
		go l.run()
	}
	return w, nil
}

// topics is what connection i subscribes to.
func (w *worker) topics(i int) []string {
	s, p := &w.spec, w.proto
	id := s.First + i
	switch {
	case s.Role == RolePublisher && s.Echo && s.Target == TargetGroup:
		t := make([]string, s.Groups)
		for g := range t {
			t[g] = p.GroupTopic(g)
		}
		return t
	case s.Role != RoleSubscriber:
		return nil
	}
	switch s.Topics {
	case TopicsPersonal:
		return []string{p.PersonalTopic(id)}
	case TopicsGroup:
		return []string{p.GroupTopic(id % s.Groups)}
	case TopicsGroupUser:
		return []string{p.GroupUserTopic(id, id%s.Groups)}
	case TopicsMixed:
		return p.MixedTopics(id, id%s.Groups)
	case TopicsShard:
		return []string{p.ShardTopic(id % s.Groups)}
	}
	return nil
}

// connect sets every connection up, Concurrency at a time.
func (w *worker) connect(ctx context.Context) error {
	d, err := newDialer(&w.spec, w.proto)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	jobs := make(chan int)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range w.spec.Concurrency {
		wg.Go(func() {
			for i := range jobs {
				c, took, err := d.dial(ctx, w.spec.First+i, w.topics(i))
				if err == nil {
					w.conns[i].Store(c)
					err = w.loops[i%len(w.loops)].add(c, i)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("connection %d: %w", w.spec.First+i, err)
					cancel()
				}
				if err == nil {
					w.connectHist.RecordValue(int64(took))
				}
				mu.Unlock()
			}
		})
	}
	for i := range w.spec.Count {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	w.setup = time.Since(start)
	return firstErr
}

// command runs one command line and reports whether to quit.
func (w *worker) command(f []string) (Stats, bool) {
	if len(f) == 0 {
		return Stats{Err: "gen: empty command"}, false
	}
	var err error
	switch f[0] {
	case CmdCount:
		st := w.counters()
		st.Sent = w.sent.Load()
		if f := w.failed.Load(); f != nil {
			st.Err = *f
		}
		return st, false
	case CmdStats:
	case CmdReset:
		for _, l := range w.loops {
			l.mu.Lock()
			l.hist.Reset()
			l.mu.Unlock()
		}
	case CmdStart:
		err = w.start()
	case CmdStop:
		err = w.stop()
	case CmdBurst:
		if c := w.conns[0].Load(); c != nil {
			w.send(c, true)
		}
	case CmdAwait:
		err = w.await(f[1:])
	case CmdQuit:
		w.stop()
		return w.stats(), true
	default:
		err = fmt.Errorf("gen: unknown command %q", f[0])
	}
	st := w.stats()
	if err == nil {
		if f := w.failed.Load(); f != nil {
			err = errors.New(*f)
		}
	}
	if err != nil {
		st.Err = err.Error()
	}
	return st, false
}

// await waits until deliveries and results reach N, or MS milliseconds.
func (w *worker) await(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("gen: await wants N MS")
	}
	n, err1 := strconv.ParseInt(args[0], 10, 64)
	ms, err2 := strconv.ParseInt(args[1], 10, 64)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("gen: await %q %q: not numbers", args[0], args[1])
	}
	deadline := time.Now().Add(time.Duration(ms) * time.Millisecond)
	for {
		st := w.counters()
		if st.Deliveries+st.Results >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gen: await: %d of %d after %dms", st.Deliveries+st.Results, n, ms)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// start makes publishers and callers begin: each fills its window, or the
// pacer sends at Rate.
func (w *worker) start() error {
	if w.spec.Role == RoleSubscriber || w.running.Swap(true) {
		return nil
	}
	if w.spec.Rate > 0 {
		w.pacerStop, w.pacerDone = make(chan struct{}), make(chan struct{})
		go w.pace()
		return nil
	}
	for i := range w.conns {
		c := w.conns[i].Load()
		for range w.spec.Window {
			w.send(c, false)
		}
	}
	return nil
}

// stop ends sending; once it returns nothing more is sent. It fails,
// rather than hang, when the pacer does not stop within
// pacerStopTimeout.
func (w *worker) stop() error {
	if !w.running.Swap(false) {
		return nil
	}
	if w.pacerStop != nil {
		close(w.pacerStop)
		select {
		case <-w.pacerDone:
		case <-time.After(pacerStopTimeout):
			return fmt.Errorf("gen: stop: the pacer did not stop within %s (a write the server does not read?)", pacerStopTimeout)
		}
		w.pacerStop = nil
	}
	for i := range w.conns {
		if c := w.conns[i].Load(); c != nil {
			c.wmu.Lock() // a send in progress holds wmu: this waits it out
			c.wbuf = c.wbuf[:0]
			c.wmu.Unlock()
		}
	}
	return nil
}

// windowed reports whether answers (or completions) bound what a
// connection has in flight.
func (w *worker) windowed() bool {
	return w.spec.Role == RoleCaller || w.spec.Complete || w.spec.Echo && w.spec.Target == TargetGroup
}

// answered is called by a loop when c's publication came back or its
// call was answered: without a pacer, c sends the next one as soon as
// the loop has handled what it read.
func (w *worker) answered(c *conn) {
	c.inflight.Add(-1)
	if w.spec.Rate == 0 {
		c.owed++ // sent by the loop once the read is handled: one write for all
	}
}

// pace sends at Rate, round-robin over the connections, skipping those
// whose window is full.
func (w *worker) pace() {
	defer close(w.pacerDone)
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	start := time.Now()
	var sent int64
	next := 0
	for {
		select {
		case <-w.pacerStop:
			return
		case <-t.C:
		}
		if w.failed.Load() != nil {
			return
		}
		target := int64(w.spec.Rate * time.Since(start).Seconds())
		for skipped := 0; sent < target && skipped < len(w.conns); {
			c := w.conns[next].Load()
			next = (next + 1) % len(w.conns)
			if w.windowed() && c.inflight.Load() >= int64(w.spec.Window) {
				skipped++
				continue
			}
			skipped = 0
			if w.send(c, false) {
				sent++
			}
		}
		if sent < target-int64(w.spec.Rate) { // over a second behind: do not catch up in a burst
			sent = target - int64(w.spec.Rate)
		}
	}
}

// send sends c's next publication or call; force sends while stopped.
func (w *worker) send(c *conn, force bool) bool { return w.sendMany(c, 1, force) }

// sendMany sends c's next n publications or calls with one write.
func (w *worker) sendMany(c *conn, n int, force bool) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.fd < 0 || !force && !w.running.Load() {
		return false
	}
	c.wbuf = c.wbuf[:0]
	now := time.Now().UnixNano() // one write: one send time
	for range n {
		w.appendNext(c, now)
	}
	return c.write(c.wbuf) == nil
}

// appendNext appends c's next publication or call, stamped now, to
// c.wbuf and counts it. It assumes c.wmu.
func (w *worker) appendNext(c *conn, now int64) {
	c.calls++
	c.seq++
	c.pbuf = wire.AppendPayload(c.pbuf[:0], now, c.id, c.seq, w.spec.Pad)
	pl := c.pbuf
	s := &w.spec
	if s.Role == RoleCaller {
		c.wbuf = w.proto.AppendCall(c.wbuf, c.mask, c.calls, pl)
	} else {
		k := int(w.seq.Add(1) - 1)
		var topic string
		switch {
		case s.Target == TargetTopic:
			topic = s.Topic
		case s.Target == TargetMixed && k%2 == 0:
			topic = w.proto.MixedPersonal(int(uint64(k/2) * 2654435761 % uint64(s.Users)))
			w.sentPersonal.Add(1)
		case s.Target == TargetMixed:
			g := (k / 2) % s.Groups
			topic = w.proto.MixedGroup(g)
			w.sentGroup[g].Add(1)
		default:
			g := k % s.Groups
			topic = w.proto.GroupTopic(g)
			w.sentGroup[g].Add(1)
			if w.board != nil {
				w.track(c, g, now)
				c.wbuf = w.proto.AppendPublish(c.wbuf, c.mask, c.calls, topic, pl, false)
				w.sent.Add(1)
				return
			}
		}
		c.wbuf = w.proto.AppendPublish(c.wbuf, c.mask, c.calls, topic, pl, s.Echo)
	}
	c.inflight.Add(1)
	w.sent.Add(1)
}

// track puts c's publication c.seq to group g on the board before it is
// sent: in flight until its GroupSizes[g] receivers have it (none: it is
// complete at once). It assumes c.wmu.
func (w *worker) track(c *conn, g int, now int64) {
	n := w.spec.GroupSizes[g]
	if n == 0 {
		w.completed.Add(1)
		return
	}
	i := c.id - w.board.first
	s := w.board.slot(i, c.seq)
	if old := s.Load(); uint32(old) != 0 {
		w.fail(fmt.Sprintf("gen: publisher %d: publication %d still misses %d deliveries after %d newer ones were sent",
			c.id, old>>32, uint32(old), BoardRing))
	}
	if c.sentAt == nil {
		c.sentAt = make([]int64, BoardRing)
	}
	c.sentAt[c.seq%BoardRing] = now
	for in := c.inflight.Add(1); ; {
		m := w.maxInflight.Load()
		if in <= m || w.maxInflight.CompareAndSwap(m, in) {
			break
		}
	}
	s.Store(uint64(c.seq)<<32 | uint64(n))
}

// fail records why the worker gave up; every command's answer carries
// it from then on.
func (w *worker) fail(why string) { w.failed.CompareAndSwap(nil, &why) }

// completions reads the board's completions and frees the publishers'
// windows; without a pacer each freed place is filled at once, one write
// per publisher per batch.
func (w *worker) completions() {
	owed := make([]int, len(w.conns))
	err := w.board.readCompletions(func(idx, _ []uint32) {
		for _, i := range idx {
			k := int(i) - (w.spec.First - w.board.first)
			if k < 0 || k >= len(w.conns) {
				continue
			}
			c := w.conns[k].Load()
			if c == nil {
				continue
			}
			c.inflight.Add(-1)
			w.completed.Add(1)
			owed[k]++
		}
		for k, n := range owed {
			if n == 0 {
				continue
			}
			owed[k] = 0
			if w.spec.Rate == 0 {
				w.sendMany(w.conns[k].Load(), n, false)
			}
		}
	})
	select {
	case <-w.quit:
	default:
		w.fail(fmt.Sprintf("gen: reading completions: %v", err))
	}
}

// watchdog fails the worker when a publication stays incomplete longer
// than Spec.Stall: a lost delivery must end the run, not hang it.
func (w *worker) watchdog() {
	stall := time.Duration(w.spec.Stall)
	t := time.NewTicker(min(time.Second, stall/4))
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			return
		case <-t.C:
		}
		now := time.Now().UnixNano()
		for k := range w.conns {
			c := w.conns[k].Load()
			if c == nil {
				continue
			}
			c.wmu.Lock()
			for j, at := range c.sentAt {
				if at == 0 || now-at < int64(stall) {
					continue
				}
				v := w.board.slots[(c.id-w.board.first)*BoardRing+j].Load()
				if uint32(v) != 0 {
					w.fail(fmt.Sprintf("gen: publisher %d: publication %d incomplete after %s: %d deliveries missing (lost, or the server stalled)",
						c.id, v>>32, stall, uint32(v)))
				}
			}
			c.wmu.Unlock()
		}
	}
}

// counters sums the loops' counters, without histograms.
func (w *worker) counters() Stats {
	var st Stats
	for _, l := range w.loops {
		l.mu.Lock()
		st.Deliveries += l.deliveries
		st.Echoes += l.echoes
		st.Results += l.results
		st.Errors += l.errors
		st.Closed += l.closed
		l.mu.Unlock()
	}
	if w.board != nil {
		st.Stale = w.board.stale.Load()
	}
	st.Completed = w.completed.Load()
	st.MaxInflight = w.maxInflight.Load()
	for i := range w.conns {
		if w.conns[i].Load() != nil {
			st.Conns++
		}
	}
	return st
}

// stats is the answer to a command.
func (w *worker) stats() Stats {
	st := w.counters()
	h := NewHistogram()
	for _, l := range w.loops {
		l.mu.Lock()
		h.Merge(l.hist)
		l.mu.Unlock()
	}
	st.Latency = h.Export()
	st.Sent = w.sent.Load()
	st.SentPersonal = w.sentPersonal.Load()
	st.SentGroup = make([]int64, len(w.sentGroup))
	for g := range w.sentGroup {
		st.SentGroup[g] = w.sentGroup[g].Load()
	}
	st.CPUSeconds = selfCPU()
	st.SetupSeconds = w.setup.Seconds()
	if math.IsNaN(st.CPUSeconds) {
		st.CPUSeconds = 0
	}
	return st
}
