package handlers

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEExamples checks that every Go block of the README's "As a
// library" is code of a compiled example, as it stands in the example's
// body (one tab less), so the README cannot drift from the API.
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "\n## As a library\n")
	if start < 0 {
		t.Fatal(`README has no "## As a library"`)
	}
	section = section[start+1:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	var examples strings.Builder
	for _, name := range []string{"example_test.go", "../router/example_test.go", "../auth/example_test.go"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			examples.WriteString(strings.TrimPrefix(line, "\t"))
		}
	}
	blocks := 0
	for rest := section; ; {
		i := strings.Index(rest, "```go\n")
		if i < 0 {
			break
		}
		rest = rest[i+len("```go\n"):]
		j := strings.Index(rest, "```")
		if j < 0 {
			t.Fatal("unterminated code block")
		}
		block := rest[:j]
		rest = rest[j+3:]
		blocks++
		if !strings.Contains(examples.String(), block) {
			t.Errorf("README block is in no example of handlers, router or auth:\n%s", block)
		}
	}
	if blocks == 0 {
		t.Fatal(`no Go code in "As a library"`)
	}
}
