package client

import "testing"

func TestTopic(t *testing.T) {
	tests := []struct {
		name string
		base string
		tags map[string]string
		want string
	}{
		{"no tags", "http://x/news", nil, "http://x/news"},
		{"empty tags", "http://x/news", map[string]string{}, "http://x/news"},
		{"one tag", "http://x/news", map[string]string{"lang": "FR"}, "http://x/news?lang=FR"},
		{"sorted keys", "news", map[string]string{"user": "42", "lang": "FR", "a.b": "c"}, "news?a.b=c&lang=FR&user=42"},
		{"no base", "", map[string]string{"language": "FR"}, "?language=FR"},
		{"unreserved kept", "n", map[string]string{"k_-.~": "Az09-._~"}, "n?k_-.~=Az09-._~"},
		{"reserved escaped", "n", map[string]string{"k": "a b&c=d?e/f%g+h#"}, "n?k=a%20b%26c%3Dd%3Fe%2Ff%25g%2Bh%23"},
		{"non-ASCII escaped", "n", map[string]string{"k": "é"}, "n?k=%C3%A9"},
		{"empty value", "n", map[string]string{"k": ""}, "n?k="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Topic(tt.base, tt.tags); got != tt.want {
				t.Errorf("Topic(%q, %v) = %q, want %q", tt.base, tt.tags, got, tt.want)
			}
		})
	}
}
