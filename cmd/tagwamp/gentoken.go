package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
)

// gentoken is tagwamp gentoken: it prints a connection token
// (docs/protocol.md#tokens) for ?token=, signed with the secret of an
// application of the -config file (auth.NewToken), and nothing else on
// stdout.
func gentoken(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gentoken", stderr)
	file := fs.String("config", "", "YAML configuration `file` with the application; env "+envName("config"))
	key := fs.String("key", "", "application `key` that signs (claim iss); default the only application")
	sub := fs.String("sub", "", "`subject` of the token (claim sub), e.g. a user id; required")
	ttl := fs.Duration("ttl", time.Hour, "validity from now (claim exp)")
	tags := tagFlag{}
	fs.Var(tags, "tag", "bound tag `name=value` (claim tags; docs/protocol.md#bound-tags); repeat for more")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		*file = os.Getenv(envName("config"))
	}
	switch {
	case *file == "":
		fs.Usage()
		return usageError{fmt.Errorf("gentoken: -config (or %s) is required", envName("config"))}
	case *sub == "":
		fs.Usage()
		return usageError{errors.New("gentoken: -sub is required")}
	case *ttl <= 0:
		return usageError{fmt.Errorf("gentoken: -ttl %v: must be positive", *ttl)}
	}
	cfg, err := config.Load(*file)
	if err != nil {
		return fmt.Errorf("gentoken: -config %s: %w", *file, err)
	}
	app, err := signer(cfg.Applications, *key)
	if err != nil {
		return usageError{fmt.Errorf("gentoken: %w", err)}
	}
	tok, err := auth.NewToken(app.Key, app.Secret, *sub, tags, *ttl)
	if err != nil {
		return usageError{fmt.Errorf("gentoken: %w", err)}
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// signer returns the application named key, or the only one when key is
// empty.
func signer(apps []config.Application, key string) (config.Application, error) {
	keys := make([]string, len(apps))
	for i, a := range apps {
		if a.Key == key || key == "" && len(apps) == 1 {
			return a, nil
		}
		keys[i] = a.Key
	}
	switch {
	case len(apps) == 0:
		return config.Application{}, errors.New("the configuration has no applications (tagwamp genconfig writes one)")
	case key == "":
		return config.Application{}, fmt.Errorf("-key is required: the configuration has %d applications (%s)", len(apps), strings.Join(keys, ", "))
	}
	return config.Application{}, fmt.Errorf("-key %q: no such application (%s)", key, strings.Join(keys, ", "))
}

// tagFlag collects -tag name=value flags.
type tagFlag map[string]string

func (t tagFlag) String() string { return "" }

func (t tagFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, not %q", v)
	}
	if _, dup := t[name]; dup {
		return fmt.Errorf("tag %q given twice", name)
	}
	t[name] = value
	return nil
}
