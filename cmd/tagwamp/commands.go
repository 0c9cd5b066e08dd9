package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageError marks errors in the flags or the configuration (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// command is one subcommand of tagwamp. run gets the arguments after the
// command's name; its error decides the exit status (exitCode).
type command struct {
	name, synopsis, summary string
	run                     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands, in the order help shows them.
func commands() []command {
	return []command{
		{"serve", "[flags]", "serve WAMP v1 (the default: tagwamp -config FILE serves)", serveCommand},
		{"genconfig", "[-o FILE]", "write a commented configuration with fresh random secrets", genconfig},
		{"checkconfig", "-config FILE [flags]", "load and validate a configuration without serving", checkconfig},
		{"gentoken", "-config FILE -sub SUBJECT [-key APP] [-tag K=V]... [-ttl 1h]", "print a connection token (?token=) signed with an application's secret", gentoken},
		{"version", "", "print the version, the Go version and the VCS revision", version},
		{"help", "[COMMAND]", "list the commands, or show one command's flags", help},
	}
}

// dispatch runs the command args name (serve when args is empty or starts
// with a flag) and returns the exit status: 0, 1 for a failure, 2 for bad
// flags, arguments or configuration.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	for _, c := range commands() {
		if c.name == name {
			return exitCode(c.run(ctx, args, stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "tagwamp: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

// exitCode prints err, one "tagwamp: " line per line of it, and maps it to
// the exit status.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(stderr, "tagwamp:", line)
	}
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// usage lists the commands.
func usage(w io.Writer) {
	fmt.Fprint(w, "usage: tagwamp [COMMAND] [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nWith no command (or flags first), tagwamp serves. \"tagwamp help COMMAND\" shows a command's flags.\n"+
		"Every serve flag can be set in the environment: -log-level is TAGWAMP_LOG_LEVEL (flag > environment > file > default).\n")
}

// help lists the commands, or prints one command's usage and flags.
func help(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch len(args) {
	case 0:
		usage(stdout)
		return nil
	case 1:
		for _, c := range commands() {
			if c.name == args[0] && c.name != "help" {
				return c.run(ctx, []string{"-h"}, stdout, stdout)
			}
		}
	}
	return usageError{fmt.Errorf("help: unknown command %q (tagwamp help lists them)", strings.Join(args, " "))}
}

// newFlags returns the flag set of a command, whose usage names it and
// says what it does.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tagwamp "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, c := range commands() {
		if c.name == name {
			fs.Usage = func() {
				fmt.Fprintf(fs.Output(), "usage: tagwamp %s %s\n\n%s.\n", c.name, c.synopsis, c.summary)
				var any bool
				fs.VisitAll(func(*flag.Flag) { any = true })
				if any {
					fmt.Fprint(fs.Output(), "\nflags:\n")
					fs.PrintDefaults()
				}
				if name == "serve" {
					fmt.Fprint(fs.Output(), "\n\"tagwamp help\" lists the other commands.\n")
				}
			}
		}
	}
	return fs
}

// parseFlags parses args into fs: -h is flag.ErrHelp, a bad flag or an
// argument a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
