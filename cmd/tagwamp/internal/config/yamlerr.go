package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// typeErrors turns the "line N: ..." messages of a yaml.TypeError into
// errors that name the key at that line: "config: limits.workers: line 9:
// cannot unmarshal !!str `many` into int", "config: limits.max_mesage_size:
// unknown key (line 4)".
func typeErrors(data []byte, te *yaml.TypeError) error {
	var root yaml.Node
	keys := map[int]string{}
	if yaml.Unmarshal(data, &root) == nil {
		keyLines(&root, "", keys)
	}
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		errs = append(errs, keyError(msg, keys))
	}
	return errors.Join(errs...)
}

// keyError rewrites one yaml error message.
func keyError(msg string, keys map[int]string) error {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return fmt.Errorf("config: %s", msg)
	}
	num, text, ok := strings.Cut(rest, ": ")
	line, err := strconv.Atoi(num)
	if !ok || err != nil {
		return fmt.Errorf("config: %s", msg)
	}
	key, known := keys[line]
	if strings.HasPrefix(text, "field ") && strings.Contains(text, " not found in type ") {
		field := strings.TrimPrefix(text[:strings.Index(text, " not found in type ")], "field ")
		switch {
		case !known:
			key = field
		case key != field && !strings.HasSuffix(key, "."+field):
			// A flow mapping ({uri: x, calls: true}) shares its line with
			// the key that holds it.
			key += "." + field
		}
		return fmt.Errorf("config: %s: unknown key (line %d)", key, line)
	}
	if !known {
		return fmt.Errorf("config: line %d: %s", line, text)
	}
	return fmt.Errorf("config: %s: line %d: %s", key, line, text)
}

// keyLines records in keys, for each line that holds a mapping key or a
// sequence item, the dotted path of the first one on it, like
// "limits.workers" or "middleware.ip.allow[2]".
func keyLines(n *yaml.Node, path string, keys map[int]string) {
	add := func(line int, p string) {
		if _, dup := keys[line]; !dup {
			keys[line] = p
		}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			keyLines(c, path, keys)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			add(k.Line, p)
			keyLines(v, p, keys)
		}
	case yaml.SequenceNode:
		if path == "" {
			return // not a configuration: no key to name
		}
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			add(c.Line, p)
			keyLines(c, p, keys)
		}
	}
}
