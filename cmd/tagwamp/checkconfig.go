package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// checkconfig is tagwamp checkconfig: it loads the configuration serve
// would run with the same flags and environment, validates it, and builds
// the server's options (TLS certificate, auth keys, filters) without
// listening. It prints "config OK", or every error, each naming its key,
// and fails (exit 1).
func checkconfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	f := newServeFlags("checkconfig", stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	if *f.file == "" {
		f.fs.Usage()
		return usageError{fmt.Errorf("checkconfig: -config (or %s) is required", envName("config"))}
	}
	cfg, err := f.config()
	if err == nil {
		_, _, err = options(cfg, slog.New(slog.DiscardHandler), nil)
	}
	if err != nil {
		return checkError{err}
	}
	fmt.Fprintf(stdout, "config OK: %s\n", *f.file)
	return nil
}

// checkError is checkconfig's failure: the file's errors, one a line.
type checkError struct{ err error }

func (e checkError) Error() string {
	var n int
	var joined interface{ Unwrap() []error }
	if errors.As(e.err, &joined) {
		n = len(joined.Unwrap())
	}
	if n > 1 {
		return fmt.Sprintf("checkconfig: %d errors:\n%v", n, e.err)
	}
	return "checkconfig: " + e.err.Error()
}

func (e checkError) Unwrap() error { return e.err }
