package gen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// WorkerEnv is the environment variable that turns a harness binary into
// a worker: main (or TestMain) calls WorkerMain when it is set.
const WorkerEnv = "TAGWAMP_BENCH_WORKER"

// WorkerMain serves as a worker on standard input and output and exits;
// binaries call it first thing when WorkerEnv is set.
func WorkerMain() {
	if _, err := RaiseFileLimit(); err != nil {
		fmt.Fprintln(os.Stderr, "gen: worker: raising the descriptor limit:", err)
	}
	if err := Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen: worker:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Worker is the harness's handle on a worker process.
type Worker struct {
	Spec Spec
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	errb *strings.Builder
	mu   sync.Mutex // guards errb, written by the copy of stderr
}

// StartWorker re-executes exe as a worker with spec and waits until every
// connection is set up; the Stats returned carry the connect latencies.
func StartWorker(ctx context.Context, exe string, spec Spec) (*Worker, Stats, error) {
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), WorkerEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphans if the harness dies
	cmd.ExtraFiles = spec.Files                                        // the completion board: descriptors 3 and 4
	w := &Worker{Spec: spec, cmd: cmd, errb: new(strings.Builder)}
	var err error
	if w.in, err = cmd.StdinPipe(); err != nil {
		return nil, Stats{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, Stats{}, err
	}
	w.out = bufio.NewReaderSize(stdout, 1<<20)
	cmd.Stderr = lockedWriter{w}
	if err := cmd.Start(); err != nil {
		return nil, Stats{}, fmt.Errorf("gen: starting worker: %w", err)
	}
	b, _ := json.Marshal(spec)
	if _, err := w.in.Write(append(b, '\n')); err != nil {
		w.kill()
		return nil, Stats{}, fmt.Errorf("gen: worker spec: %w", err)
	}
	st, err := w.readWithin(setupBound)
	if err != nil {
		w.kill()
		return nil, Stats{}, fmt.Errorf("gen: %s worker setting up %d connections: %w", spec.Role, spec.Count, err)
	}
	return w, st, nil
}

// The bounds on a worker's answer: a worker that does not answer in time
// is killed and the command fails, so a stuck worker cannot hang the
// harness. Setting up is bounded per connection (setupTimeout) but a
// worker sets up many; a command's longest own wait is a stop's
// (pacerStopTimeout) or an await's MS, added to commandBound.
const (
	setupBound   = 10 * time.Minute
	commandBound = pacerStopTimeout + 30*time.Second
)

type lockedWriter struct{ w *Worker }

func (l lockedWriter) Write(p []byte) (int, error) {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	if l.w.errb.Len() < 64<<10 {
		l.w.errb.Write(p)
	}
	return len(p), nil
}

// Pid is the worker's process id.
func (w *Worker) Pid() int { return w.cmd.Process.Pid }

// Do sends one command line and returns the answer; an answer carrying
// an error is returned with that error.
func (w *Worker) Do(command string) (Stats, error) {
	if _, err := io.WriteString(w.in, command+"\n"); err != nil {
		return Stats{}, fmt.Errorf("gen: worker %d: %s: %w%s", w.Pid(), command, err, w.stderr())
	}
	bound := commandBound
	if f := strings.Fields(command); len(f) == 3 && f[0] == CmdAwait {
		if ms, err := strconv.ParseInt(f[2], 10, 64); err == nil && ms > 0 {
			bound += time.Duration(ms) * time.Millisecond
		}
	}
	st, err := w.readWithin(bound)
	if err != nil {
		return st, fmt.Errorf("gen: worker %d: %s: %w", w.Pid(), command, err)
	}
	return st, nil
}

// readWithin is read, killing the worker when no answer came within d.
func (w *Worker) readWithin(d time.Duration) (Stats, error) {
	type answer struct {
		st  Stats
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		st, err := w.read()
		ch <- answer{st, err}
	}()
	select {
	case a := <-ch:
		return a.st, a.err
	case <-time.After(d):
		w.kill()
		<-ch // the kill ends the read
		return Stats{}, fmt.Errorf("no answer within %s: worker killed%s", d, w.stderr())
	}
}

// read reads one answer.
func (w *Worker) read() (Stats, error) {
	line, err := w.out.ReadBytes('\n')
	if err != nil {
		// The worker is gone: wait for it, so that its stderr is copied.
		done := make(chan error, 1)
		go func() { done <- w.cmd.Wait() }()
		select {
		case werr := <-done:
			return Stats{}, fmt.Errorf("no answer (%v, exit: %v)%s", err, werr, w.stderr())
		case <-time.After(5 * time.Second):
			return Stats{}, fmt.Errorf("no answer (%v)%s", err, w.stderr())
		}
	}
	var st Stats
	if err := json.Unmarshal(line, &st); err != nil {
		return Stats{}, fmt.Errorf("bad answer: %w", err)
	}
	if st.Err != "" {
		return st, errors.New(st.Err)
	}
	return st, nil
}

func (w *Worker) stderr() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.errb.Len() == 0 {
		return ""
	}
	return "; stderr: " + strings.TrimSpace(w.errb.String())
}

// Close asks the worker to quit and waits for it, killing it after 10s.
func (w *Worker) Close() error {
	w.Do(CmdQuit)
	w.in.Close()
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		w.kill()
		return <-done
	}
}

func (w *Worker) kill() {
	w.cmd.Process.Kill()
	w.in.Close()
}
