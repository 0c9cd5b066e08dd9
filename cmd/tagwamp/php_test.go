package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/client"
)

// TestPHPBackend runs examples/php-backend/rpc.php under php -S as a
// forward route of the command, as its README tells: a WAMP client calls
// its #add, and its #announce, which publishes through the HTTP API; the
// EVENT reaches the client. Without php the test is skipped, but fails
// under CI=true, where .ci/run installs Debian's php-cli.
func TestPHPBackend(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("php not found: CI must install it (apt-get install -y php-cli)")
		}
		t.Skip("php not found; to run this test: apt-get install -y php-cli")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "examples", "php-backend", "rpc.php"))
	if err != nil {
		t.Fatal(err)
	}
	phpAddr := freeAddr(t)
	conf := filepath.Join(t.TempDir(), "tagwamp.yaml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `
forward:
  routes:
    - {name: php, prefix: "http://example.com/app#", url: "http://%s/", timeout: 10s}
`, phpAddr), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startRun(t, "-config", conf)

	var phpLog syncBuffer
	cmd := exec.Command(php, "-S", phpAddr, script)
	cmd.Env = append(os.Environ(), "TAGWAMP_API=http://"+r.addr.String())
	cmd.Stdout, cmd.Stderr = &phpLog, &phpLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("php -S:\n%s\ntagwamp:\n%s", &phpLog, r.logs)
		}
	})
	waitListening(t, phpAddr)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://"+r.addr.String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	events := make(chan string, 1)
	if err := c.Subscribe("http://example.com/announcements", func(topic string, event json.RawMessage) {
		events <- string(event)
	}); err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := c.Call(ctx, "http://example.com/app#add", &sum, 2, 3); err != nil || sum != 5 {
		t.Fatalf("add(2, 3) = %d, %v", sum, err)
	}
	var res struct{ Receivers int }
	if err := c.Call(ctx, "http://example.com/app#announce", &res, "hello"); err != nil || res.Receivers != 1 {
		t.Fatalf("announce = %+v, %v", res, err)
	}
	select {
	case e := <-events:
		if !strings.Contains(e, `"text":"hello"`) || !strings.Contains(e, c.SessionID()) {
			t.Fatalf("event %s", e)
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
	if err := c.Call(ctx, "http://example.com/app#add", &sum, "x"); err == nil || !strings.Contains(err.Error(), "invalid-argument") {
		t.Fatalf("add(\"x\") = %v", err)
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitListening waits until something accepts connections on addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s after 10s", addr)
}
