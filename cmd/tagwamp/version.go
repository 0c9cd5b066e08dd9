package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/tagwamp/tagwamp/router"
)

// version is tagwamp version: the release (router.Version), the Go
// version and platform, and, from the build information when the binary
// has it, the module version and the VCS revision.
func version(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if err := parseFlags(newFlags("version", stderr), args); err != nil {
		return err
	}
	bi, _ := debug.ReadBuildInfo()
	_, err := io.WriteString(stdout, versionText(bi))
	return err
}

// versionText formats version's output from bi, which may be nil.
func versionText(bi *debug.BuildInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tagwamp %s\n", router.Version)
	fmt.Fprintf(&b, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi == nil {
		return b.String()
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		fmt.Fprintf(&b, "module %s %s\n", bi.Main.Path, v)
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	if rev != "" {
		fmt.Fprintf(&b, "revision %s%s%s\n", rev, at, modified)
	}
	return b.String()
}
