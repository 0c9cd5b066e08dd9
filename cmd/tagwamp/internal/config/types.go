package config

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as a Go duration string ("10s",
// "1m30s") or, where a key allows it, "off", stored as Off. A bare number
// is an error: its unit would be a guess.
type Duration time.Duration

// Off is the Duration that "off" decodes to: negative, which turns the
// feature off in router.Options.
const Off Duration = -1

// UnmarshalYAML decodes a duration string or "off".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineError(n, "want a duration like 10s or off")
	}
	if strings.EqualFold(n.Value, "off") {
		*d = Off
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return lineError(n, fmt.Sprintf("invalid duration %q: want one like 10s or 1m30s", n.Value))
	}
	*d = Duration(v)
	return nil
}

// String returns "off" for Off and the time.Duration form otherwise.
func (d Duration) String() string {
	if d == Off {
		return "off"
	}
	return time.Duration(d).String()
}

// Level is a log level written as debug, info, warn or error.
type Level slog.Level

// UnmarshalYAML decodes a level name.
func (l *Level) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineError(n, "invalid log level: want one of debug, info, warn or error, not a list or a mapping")
	}
	v, err := ParseLevel(n.Value)
	if err != nil {
		return lineError(n, fmt.Sprintf("invalid log level %q: want debug, info, warn or error", n.Value))
	}
	*l = Level(v)
	return nil
}

// String returns the level's name in lower case.
func (l Level) String() string { return strings.ToLower(slog.Level(l).String()) }

// ParseLevel parses debug, info, warn or error, in any case.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("invalid log level %q: want debug, info, warn or error", s)
}

// lineError returns a decoding error in yaml's own form, "line N: msg", so
// that the decoder collects it with its own errors and typeErrors can name
// the key.
func lineError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}
