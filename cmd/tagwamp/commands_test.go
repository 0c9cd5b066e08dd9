package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
	"github.com/tagwamp/tagwamp/router"
)

// tagwamp runs the command line args in-process and returns its exit
// status and output.
func tagwamp(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = dispatch(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDispatch(t *testing.T) {
	good := writeFile(t, "addr: 127.0.0.1:9000\n")
	badTwice := writeFile(t, "addr: \"\"\nlimits:\n  max_message_size: 0\n")
	noTLS := writeFile(t, "tls:\n  cert_file: /nonexistent/c.pem\n  key_file: /nonexistent/k.pem\n")
	twoApps := writeFile(t, "applications:\n  - {key: a, secret: 0123456789abcdef}\n  - {key: b, secret: 0123456789abcdef}\n")
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     []string // each in stdout
		stderr     []string // each in stderr
		notStdout  string   // never in stdout, when set
		emptyStdio bool     // stdout must be empty
	}{
		{name: "help lists every command", args: []string{"help"},
			stdout: []string{"usage: tagwamp [COMMAND]", "serve ", "genconfig ", "checkconfig ", "gentoken ", "version ", "help ", "TAGWAMP_LOG_LEVEL"}},
		{name: "help of a command", args: []string{"help", "genconfig"},
			stdout: []string{"usage: tagwamp genconfig [-o FILE]", "-o file"}},
		{name: "help serve names the environment", args: []string{"help", "serve"},
			stdout: []string{"-addr address", "env TAGWAMP_ADDR", "env TAGWAMP_DELIVER_TO_PUBLISHER", "env TAGWAMP_LOG_FORMAT", "env TAGWAMP_DEBUG_ADDR"}},
		{name: "help of no such command", args: []string{"help", "frob"}, code: 2, stderr: []string{`unknown command "frob"`}},
		{name: "unknown command", args: []string{"frob"}, code: 2, stderr: []string{`unknown command "frob"`, "usage: tagwamp"}},
		{name: "-h", args: []string{"version", "-h"}, stderr: []string{"usage: tagwamp version"}},
		{name: "version", args: []string{"version"}, stdout: []string{"tagwamp " + router.Version + "\n", "go go1."}},
		{name: "version takes no argument", args: []string{"version", "x"}, code: 2, stderr: []string{`unexpected argument "x"`, "usage: tagwamp version"}},
		{name: "bad flag shows usage", args: []string{"genconfig", "-x"}, code: 2,
			stderr: []string{"flag provided but not defined: -x", "usage: tagwamp genconfig"}},
		{name: "serve bad flag", args: []string{"-port", "1"}, code: 2, stderr: []string{"flag provided but not defined: -port"}},
		{name: "serve bad file", args: []string{"serve", "-config", badTwice}, code: 2, stderr: []string{"config: addr: must not be empty", "tagwamp: config: limits.max_message_size: must be positive"}},
		{name: "checkconfig OK", args: []string{"checkconfig", "-config", good}, stdout: []string{"config OK: " + good}},
		{name: "checkconfig needs -config", args: []string{"checkconfig"}, code: 2, stderr: []string{"-config (or TAGWAMP_CONFIG) is required"}},
		{name: "checkconfig lists every error", args: []string{"checkconfig", "-config", badTwice}, code: 1, emptyStdio: true,
			stderr: []string{"tagwamp: checkconfig: 2 errors:", "tagwamp: config: limits.max_message_size: must be positive", "config: addr: must not be empty"}},
		{name: "checkconfig applies the flags", args: []string{"checkconfig", "-config", good, "-log-format", "xml"}, code: 1,
			stderr: []string{`log_format: must be text or json, not "xml"`}},
		{name: "checkconfig loads the certificate", args: []string{"checkconfig", "-config", noTLS}, code: 1,
			stderr: []string{"checkconfig: tls: open /nonexistent/c.pem"}},
		{name: "checkconfig missing file", args: []string{"checkconfig", "-config", "/nonexistent/t.yaml"}, code: 1,
			stderr: []string{"-config /nonexistent/t.yaml: config: open"}},
		{name: "gentoken needs -sub", args: []string{"gentoken", "-config", good}, code: 2, stderr: []string{"-sub is required"}},
		{name: "gentoken needs -config", args: []string{"gentoken", "-sub", "1"}, code: 2, stderr: []string{"-config (or TAGWAMP_CONFIG) is required"}},
		{name: "gentoken without applications", args: []string{"gentoken", "-config", good, "-sub", "1"}, code: 2,
			stderr: []string{"has no applications"}},
		{name: "gentoken needs -key among several", args: []string{"gentoken", "-config", twoApps, "-sub", "1"}, code: 2,
			stderr: []string{"-key is required: the configuration has 2 applications (a, b)"}},
		{name: "gentoken unknown key", args: []string{"gentoken", "-config", twoApps, "-sub", "1", "-key", "c"}, code: 2,
			stderr: []string{`-key "c": no such application (a, b)`}},
		{name: "gentoken bad tag", args: []string{"gentoken", "-config", twoApps, "-sub", "1", "-tag", "user"}, code: 2,
			stderr: []string{`want name=value, not "user"`}},
		{name: "gentoken bad ttl", args: []string{"gentoken", "-config", twoApps, "-sub", "1", "-key", "a", "-ttl", "-1s"}, code: 2,
			stderr: []string{"-ttl -1s: must be positive"}},
		{name: "gentoken with a key", args: []string{"gentoken", "-config", twoApps, "-sub", "1", "-key", "b"},
			stdout: []string{"eyJ"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := tagwamp(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if tt.emptyStdio && stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

// TestGenconfig writes configurations to stdout and to files: fresh
// secrets each time, never printed unless asked for, a file never
// overwritten, and a file that checkconfig accepts.
func TestGenconfig(t *testing.T) {
	secrets := func(text string) []string {
		t.Helper()
		cfg, err := config.Parse([]byte(text))
		if err != nil {
			t.Fatalf("generated configuration: %v\n%s", err, text)
		}
		if len(cfg.Applications) != 1 || len(cfg.API.Keys) != 1 {
			t.Fatalf("applications %d, api keys %d; want 1 and 1", len(cfg.Applications), len(cfg.API.Keys))
		}
		app, key := cfg.Applications[0], cfg.API.Keys[0]
		if app.Key != "application1" || app.Permissions != nil || !cfg.AuthorizeOpen || key.Name != "admin" ||
			len(key.Endpoints) != 1 || key.Endpoints[0] != "*" {
			t.Errorf("generated %+v %+v authorizeOpen=%v", app, key, cfg.AuthorizeOpen)
		}
		var out []string
		for _, s := range []string{app.Secret.Reveal(), key.Key.Reveal()} {
			if b, err := base64.StdEncoding.DecodeString(s); err != nil || len(b) != 32 {
				t.Errorf("secret %q is not 32 bytes in base64", s)
			}
			out = append(out, s)
		}
		return out
	}
	code, stdout, _ := tagwamp(t, "genconfig", "-o", "-")
	if code != 0 {
		t.Fatalf("genconfig -o -: exit %d", code)
	}
	first := secrets(stdout)
	if !strings.Contains(stdout, "# Generated by tagwamp genconfig.") {
		t.Error("no comment on the generated application")
	}

	file := filepath.Join(t.TempDir(), "tagwamp.yaml")
	code, stdout, stderr := tagwamp(t, "genconfig", "-o", file)
	if code != 0 || !strings.Contains(stdout, "wrote "+file) || !strings.Contains(stdout, "applications[0].secret") {
		t.Fatalf("genconfig -o file: exit %d\n%s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	second := secrets(string(data))
	for i, s := range second {
		if s == first[i] {
			t.Errorf("secret %d repeats across runs", i)
		}
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("genconfig printed secret %d", i)
		}
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v (%v), want 0600", fi.Mode(), err)
	}
	if code, _, stderr := tagwamp(t, "genconfig", "-o", file); code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("genconfig over an existing file: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := tagwamp(t, "checkconfig", "-config", file); code != 0 || !strings.Contains(stdout, "config OK") {
		t.Errorf("checkconfig: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestGenconfigExampleDrift fails when the example loses a line that
// genconfig fills.
func TestGenconfigExampleDrift(t *testing.T) {
	if _, err := generateConfig(strings.NewReader(strings.Repeat("x", 64))); err != nil {
		t.Fatal(err)
	}
	if _, err := generateConfig(strings.NewReader("short")); err == nil {
		t.Error("a short random source did not fail")
	}
}

// TestGentoken signs a token for a generated configuration, checks its
// claims and signature, and connects with it to a server run from that
// file; a tampered token is refused and counted on /metrics.
func TestGentoken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tagwamp.yaml")
	if code, _, stderr := tagwamp(t, "genconfig", "-o", file); code != 0 {
		t.Fatal(stderr)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := tagwamp(t, "gentoken", "-config", file, "-key", "application1", "-sub", "42",
		"-tag", "user=42", "-tag", "lang=FR", "-ttl", "1h")
	if code != 0 || stderr != "" {
		t.Fatalf("gentoken: exit %d\n%s", code, stderr)
	}
	tok := strings.TrimSuffix(stdout, "\n")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || strings.Contains(tok, "\n") {
		t.Fatalf("token %q is not one JWT line", stdout)
	}
	mac := hmac.New(sha256.New, []byte(cfg.Applications[0].Secret.Reveal()))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); !hmac.Equal(sig, mac.Sum(nil)) {
		t.Error("signature is not HS256 with the application's secret")
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Iss, Sub string
		Exp, Iat int64
		Tags     map[string]string
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("claims %s: %v", payload, err)
	}
	if claims.Iss != "application1" || claims.Sub != "42" || claims.Exp-claims.Iat != 3600 ||
		claims.Tags["user"] != "42" || claims.Tags["lang"] != "FR" || len(claims.Tags) != 2 {
		t.Errorf("claims %s", payload)
	}
	t.Setenv(envName("config"), file) // gentoken reads TAGWAMP_CONFIG too
	if code, stdout, _ := tagwamp(t, "gentoken", "-sub", "7"); code != 0 || !strings.HasPrefix(stdout, "eyJ") {
		t.Errorf("gentoken from TAGWAMP_CONFIG: exit %d %q", code, stdout)
	}

	r := startRun(t, "-config", file, "-debug-addr", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://"+r.addr.String()+"/?token="+tok)
	if err != nil {
		t.Fatalf("dial with the token: %v", err)
	}
	c.Close()
	if _, err := client.Dial(ctx, "ws://"+r.addr.String()+"/?token="+tok+"x"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("dial with a tampered token: %v, want a 401", err)
	}
	resp, err := http.Get("http://" + r.debug.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"\ntagwamp_auth_connections_refused_total 1\n", "\ntagwamp_auth_challenges_rate_limited_total 0\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/tagwamp/tagwamp", Version: "v0.1.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "f9c5f15"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want []string
	}{
		{"no build info", nil, []string{"tagwamp " + router.Version + "\n", "\ngo go1."}},
		{"devel", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, []string{"tagwamp "}},
		{"vcs", bi, []string{"module github.com/tagwamp/tagwamp v0.1.0\n", "revision f9c5f15 2026-12-01T10:00:00Z (modified)\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionText(tt.bi)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			if tt.bi == nil || tt.bi.Main.Version == "(devel)" {
				if strings.Contains(got, "module") || strings.Contains(got, "revision") {
					t.Errorf("%q names a module or revision it does not have", got)
				}
			}
		})
	}
}
