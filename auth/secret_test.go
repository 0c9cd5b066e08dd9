package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretRedacts(t *testing.T) {
	type holder struct {
		Key    string
		Secret Secret
	}
	app := Application{Key: "k", Secret: appSecret}
	h := holder{Key: "k", Secret: appSecret}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "secret", appSecret, "app", app, "holder", h)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "secret", appSecret, "app", app)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", appSecret),
		"%s":   fmt.Sprintf("%s", appSecret),
		"%q":   fmt.Sprintf("%q", appSecret),
		"%x":   fmt.Sprintf("%x", appSecret),
		"%#v":  fmt.Sprintf("%#v", appSecret),
		"%+v":  fmt.Sprintf("%+v", app),
		"%#v2": fmt.Sprintf("%#v", h),
		"json": string(js),
		"slog": logs.String(),
		"err":  fmt.Errorf("wrapped: %v", app).Error(),
	}
	hexSecret := fmt.Sprintf("%x", appSecret.Reveal())
	for name, out := range outputs {
		if strings.Contains(out, appSecret.Reveal()) || strings.Contains(out, hexSecret) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s does not say [redacted]: %s", name, out)
		}
	}
	var s Secret
	if err := s.UnmarshalText([]byte("abc")); err != nil || s.Reveal() != "abc" {
		t.Fatalf("UnmarshalText: %v %q", err, s.Reveal())
	}
}
