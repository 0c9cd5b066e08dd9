package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
)

// procEnv is the environment variable that gives each process of -procs
// its index, which its log lines carry as "proc".
const procEnv = "TAGWAMP_PROC"

// Restarts of a process of -procs that died: after restartMin, doubled
// after each death up to restartMax, and back to restartMin once a
// process has served healthyAfter.
const (
	restartMin   = 500 * time.Millisecond
	restartMax   = 30 * time.Second
	healthyAfter = 10 * time.Second
)

// superviseProcs is serve with procs above 1: it re-executes this binary
// cfg.Procs times with the same arguments plus -procs 1 -reuse-port, the
// address resolved (port 0 becomes one free port they share) and each
// its own debug address (config.DebugAddrOf). Their logs go to stderr.
//
// When ctx ends (the first SIGTERM or SIGINT) it sends each process one
// SIGTERM and returns when all have exited: nil if each exited 0. A
// process that exits on its own is restarted with backoff (restartMin to
// restartMax), except one that exits 2 (its configuration or flags are
// bad, which a restart cannot mend): then every process is stopped and
// the error returned. The processes run in a process group of their own,
// so a terminal's ^C reaches this one only, and the kernel kills them if
// this one dies (the second signal's os.Exit included).
func superviseProcs(ctx context.Context, args []string, cfg config.Config, logger *slog.Logger, stderr io.Writer) error {
	if runtime.GOOS != "linux" {
		return usageError{fmt.Errorf("procs: %w", errLinuxOnly)}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("procs: %w", err)
	}
	// A trial listen: an address the processes could not share fails
	// here, once, rather than in each of them again and again; port 0
	// becomes the one free port they all take.
	addr := cfg.Addr
	ln, err := listen(ctx, addr, true, 0)
	if err != nil {
		return err
	}
	if _, port, err := net.SplitHostPort(addr); err == nil && (port == "0" || port == "") {
		addr = ln.Addr().String()
	}
	ln.Close()
	childArgs := func(i int) []string {
		a := append(slices.Clone(args), "-procs", "1", "-reuse-port=true", "-addr", addr)
		if cfg.DebugAddr != "" {
			a = append(a, "-debug-addr", cfg.DebugAddrOf(i))
		}
		return a
	}
	logger.Info("tagwamp supervising processes", "procs", cfg.Procs, "addr", addr)

	type exit struct {
		i   int
		err error
		ran time.Duration
	}
	exits := make(chan exit, cfg.Procs)
	restarts := make(chan int, cfg.Procs)
	quit := make(chan struct{}) // closed when stopping: pending restarts give up
	procs := make([]*os.Process, cfg.Procs)
	backoff := make([]time.Duration, cfg.Procs)
	start := func(i int) error {
		cmd := exec.Command(exe, childArgs(i)...)
		cmd.Env = append(os.Environ(), procEnv+"="+strconv.Itoa(i))
		cmd.Stdout, cmd.Stderr = stderr, stderr
		cmd.SysProcAttr = childAttr()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("procs: start process %d: %w", i, err)
		}
		procs[i] = cmd.Process
		logger.Info("process started", "proc", i, "pid", cmd.Process.Pid)
		began := time.Now()
		go func() {
			err := cmd.Wait()
			exits <- exit{i, err, time.Since(began)}
		}()
		return nil
	}
	running, pending := 0, 0 // processes running, restarts waiting
	var result error
	stopping := false
	stop := func() {
		if stopping {
			return
		}
		stopping = true
		pending = 0 // their goroutines give up
		close(quit)
		for i, p := range procs {
			if p != nil {
				if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
					logger.Warn("process: SIGTERM", "proc", i, "err", err)
				}
			}
		}
	}
	for i := range cfg.Procs {
		if err := start(i); err != nil {
			result = err
			stop()
			break
		}
		running++
	}
	done := ctx.Done()
	for running > 0 || pending > 0 {
		select {
		case <-done:
			done = nil
			logger.Info("stopping processes", "procs", running)
			stop()
		case e := <-exits:
			running--
			procs[e.i] = nil
			code := exitStatus(e.err)
			if stopping {
				if e.err != nil && result == nil {
					result = fmt.Errorf("process %d: %w", e.i, e.err)
				}
				continue
			}
			if code == 2 {
				result = usageError{fmt.Errorf("process %d exited 2 (bad configuration or flags): stopping all", e.i)}
				logger.Error("process exited 2: stopping all", "proc", e.i)
				stop()
				continue
			}
			if e.ran >= healthyAfter || backoff[e.i] == 0 {
				backoff[e.i] = restartMin
			} else {
				backoff[e.i] = min(2*backoff[e.i], restartMax)
			}
			logger.Error("process exited: restarting", "proc", e.i, "status", exitText(e.err), "after", backoff[e.i])
			pending++
			go func(i int, d time.Duration) {
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-t.C:
					restarts <- i
				case <-quit:
				}
			}(e.i, backoff[e.i])
		case i := <-restarts:
			if stopping {
				continue
			}
			pending--
			if err := start(i); err != nil {
				result = err
				stop()
				continue
			}
			running++
		}
	}
	if result == nil {
		logger.Info("tagwamp stopped", "procs", cfg.Procs)
	}
	return result
}

// exitStatus returns a process's exit code, or -1 if a signal ended it
// or it could not be waited for.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// exitText says how a process ended: "exit status 1", "signal: killed".
func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
