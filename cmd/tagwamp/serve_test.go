package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
)

// TestEnvOverrides sets flags through TAGWAMP_* variables: a flag beats
// its variable, a variable beats the file, the file beats the default.
func TestEnvOverrides(t *testing.T) {
	file := writeFile(t, "addr: 10.0.0.1:9000\nlog_level: warn\nlimits:\n  max_message_size: 100\n")
	other := writeFile(t, "addr: 10.0.0.2:9000\n")
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(c config.Config) bool
		wantErr string
	}{
		{"every variable", map[string]string{
			"TAGWAMP_ADDR": "127.0.0.1:1", "TAGWAMP_LOG_LEVEL": "debug", "TAGWAMP_LOG_FORMAT": "json",
			"TAGWAMP_MAX_MESSAGE_SIZE": "5", "TAGWAMP_DELIVER_TO_PUBLISHER": "true", "TAGWAMP_DEBUG_ADDR": "127.0.0.1:6060",
			"TAGWAMP_TLS_CERT": "c.pem", "TAGWAMP_TLS_KEY": "k.pem"}, nil, func(c config.Config) bool {
			return c.Addr == "127.0.0.1:1" && c.LogLevel == config.Level(slog.LevelDebug) && c.LogFormat == "json" &&
				c.Limits.MaxMessageSize == 5 && c.DeliverToPublisher && c.DebugAddr == "127.0.0.1:6060" &&
				c.TLS == config.TLS{CertFile: "c.pem", KeyFile: "k.pem"}
		}, ""},
		{"the environment beats the file", map[string]string{"TAGWAMP_ADDR": "127.0.0.1:2"}, []string{"-config", file},
			func(c config.Config) bool {
				return c.Addr == "127.0.0.1:2" && c.LogLevel == config.Level(slog.LevelWarn) && c.Limits.MaxMessageSize == 100
			}, ""},
		{"a flag beats the environment", map[string]string{"TAGWAMP_ADDR": "127.0.0.1:2", "TAGWAMP_LOG_LEVEL": "error"},
			[]string{"-config", file, "-addr", "127.0.0.1:3"}, func(c config.Config) bool {
				return c.Addr == "127.0.0.1:3" && c.LogLevel == config.Level(slog.LevelError)
			}, ""},
		{"a false flag beats a true variable", map[string]string{"TAGWAMP_DELIVER_TO_PUBLISHER": "true"},
			[]string{"-deliver-to-publisher=false"}, func(c config.Config) bool { return !c.DeliverToPublisher }, ""},
		{"TAGWAMP_CONFIG names the file", map[string]string{"TAGWAMP_CONFIG": file}, nil,
			func(c config.Config) bool { return c.Addr == "10.0.0.1:9000" }, ""},
		{"-config beats TAGWAMP_CONFIG", map[string]string{"TAGWAMP_CONFIG": file}, []string{"-config", other},
			func(c config.Config) bool { return c.Addr == "10.0.0.2:9000" && c.Limits.MaxMessageSize == 1<<20 }, ""},
		{"an empty variable is set", map[string]string{"TAGWAMP_ADDR": ""}, nil, nil, "addr: must not be empty"},
		{"bad number", map[string]string{"TAGWAMP_MAX_MESSAGE_SIZE": "big"}, nil, nil, `TAGWAMP_MAX_MESSAGE_SIZE: invalid value "big"`},
		{"bad bool", map[string]string{"TAGWAMP_DELIVER_TO_PUBLISHER": "maybe"}, nil, nil, `TAGWAMP_DELIVER_TO_PUBLISHER: invalid value "maybe"`},
		{"bad level", map[string]string{"TAGWAMP_LOG_LEVEL": "loud"}, nil, nil, `-log-level: invalid log level "loud"`},
		{"bad format", map[string]string{"TAGWAMP_LOG_FORMAT": "xml"}, nil, nil, `log_format: must be text or json, not "xml"`},
		{"TAGWAMP_PROCS and TAGWAMP_REUSE_PORT", map[string]string{"TAGWAMP_PROCS": "4", "TAGWAMP_REUSE_PORT": "true"},
			[]string{"-config", writeFile(t, "broker:\n  nats:\n    urls: [nats://127.0.0.1:4222]\n")},
			func(c config.Config) bool { return c.Procs == 4 && c.ReusePort }, ""},
		{"procs without a broker", map[string]string{"TAGWAMP_PROCS": "2"}, nil, nil, "procs: 2 processes without broker.nats"},
		{"procs without a broker, allowed", map[string]string{"TAGWAMP_PROCS": "2"},
			[]string{"-config", writeFile(t, "procs_without_broker: true\n")}, func(c config.Config) bool { return c.Procs == 2 }, ""},
		{"procs 0", nil, []string{"-procs", "0"}, nil, "procs: must be 1 to 1024"},
		{"a variable for a flag given is not read", map[string]string{"TAGWAMP_MAX_MESSAGE_SIZE": "big"},
			[]string{"-max-message-size", "9"}, func(c config.Config) bool { return c.Limits.MaxMessageSize == 9 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := loadConfig(tt.args, new(bytes.Buffer))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, new(usageError)) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

// TestLogFormat runs the server with JSON logs at debug level: every line
// is a JSON object, and a session's close is logged with its duration and
// the bytes it read and wrote.
func TestLogFormat(t *testing.T) {
	r := startRun(t, "-log-format", "json", "-log-level", "debug")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://"+r.addr.String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	var pong string
	if err := c.Call(ctx, "http://tagwamp.dev/procedure#ping", &pong); err != nil || pong != "pong" {
		t.Fatalf("ping: %q, %v", pong, err)
	}
	c.Close()
	for !strings.Contains(r.logs.String(), `"msg":"session closed"`) {
		if ctx.Err() != nil {
			t.Fatalf("no session close logged:\n%s", r.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	sc := bufio.NewScanner(strings.NewReader(r.logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		msgs = append(msgs, line["msg"].(string))
		if line["msg"] == "session closed" {
			if line["client"] != "127.0.0.1" || line["session"] == "" || line["duration"] == nil || line["level"] != "DEBUG" {
				t.Errorf("session closed line: %s", sc.Text())
			}
			// Read: the CALL (its frame: 6 bytes of header and mask) and
			// a close frame; written: WELCOME, the CALLRESULT
			// [3,"<id>","pong"] and a close frame.
			read, _ := line["bytes_read"].(float64)
			written, _ := line["bytes_written"].(float64)
			if minRead := len(`[2,"x","http://tagwamp.dev/procedure#ping"]`) + 6; read < float64(minRead) ||
				written < float64(len(`[0,"x",1,"tagwamp/0.1.0"]`)+len(`[3,"x","pong"]`)) {
				t.Errorf("session closed line: bytes read %v, written %v: %s", read, written, sc.Text())
			}
		}
	}
	if len(msgs) == 0 || msgs[0] != "tagwamp listening" || msgs[len(msgs)-1] != "tagwamp stopped" {
		t.Errorf("messages %q", msgs)
	}
}

// TestNewLogger checks the text format and that the server's logger is
// rate-limited per message.
func TestNewLogger(t *testing.T) {
	var buf syncBuffer
	logger, limited := newLogger(config.Default(), &buf)
	for range logBurst + 50 {
		logger.Info("connection refused", "client", "192.0.2.1")
	}
	logger.Debug("not at info")
	limited.Flush()
	got := buf.String()
	if n := strings.Count(got, `level=INFO msg="connection refused" client=192.0.2.1`); n != logBurst {
		t.Errorf("%d lines passed, want %d", n, logBurst)
	}
	if !strings.Contains(got, `level=WARN msg="dropped 50 log lines like: connection refused" dropped=50`) {
		t.Errorf("no summary line:\n%s", got[max(0, len(got)-500):])
	}
	if strings.Contains(got, "not at info") {
		t.Error("a debug line passed at info level")
	}
}
