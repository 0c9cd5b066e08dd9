package config

import "testing"

// TestWebUI: web_ui is absent or null by default (on loopback only, decided
// by cmd/tagwamp), and true or false when written.
func TestWebUI(t *testing.T) {
	for doc, want := range map[string]string{"": "nil", "web_ui: null\n": "nil", "web_ui: true\n": "true", "web_ui: false\n": "false"} {
		c, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		got := "nil"
		if c.WebUI != nil {
			got = map[bool]string{true: "true", false: "false"}[*c.WebUI]
		}
		if got != want {
			t.Errorf("%q: web_ui %s, want %s", doc, got, want)
		}
	}
	if _, err := Parse([]byte("web_ui: maybe\n")); err == nil {
		t.Error("web_ui: maybe parsed")
	}
}
