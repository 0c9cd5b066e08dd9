package handlers

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tagwamp/tagwamp/router"
)

func TestNewOriginCheckErrors(t *testing.T) {
	tests := []struct {
		allow []string
		want  string
	}{
		{[]string{"https://app.example.com", "https://*.example.com", "*", "http://localhost:3000", "http://[::1]:8080"}, ""},
		{[]string{"app.example.com"}, `allow[0] "app.example.com"`},
		{[]string{"*", "https://"}, `allow[1] "https://"`},
		{[]string{"https://app.example.com/path"}, "only scheme://host[:port]"},
		{[]string{"https://a*.example.com"}, "wildcard"},
		{[]string{"https://*."}, "wildcard"},
		{[]string{"https://*.*.example.com"}, "wildcard"},
		{[]string{"https://user@example.com"}, "only scheme://host[:port]"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.allow, ","), func(t *testing.T) {
			_, err := NewOriginCheck(tt.allow, false)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestOriginCheckAllowed(t *testing.T) {
	type check struct {
		origin string
		want   bool
	}
	tests := []struct {
		name    string
		allow   []string
		require bool
		checks  []check
	}{
		{"empty list allows any", nil, false, []check{
			{"", true}, {"https://evil.example", true}, {"null", true},
		}},
		{"empty list with require", nil, true, []check{
			{"", false}, {"https://evil.example", true},
		}},
		{"exact", []string{"https://app.example.com"}, false, []check{
			{"https://app.example.com", true},
			{"HTTPS://App.Example.COM", true},
			{"https://app.example.com:443", true},
			{"https://app.example.com/", true},
			{"http://app.example.com", false},
			{"https://app.example.com:8443", false},
			{"https://evil.app.example.com", false},
			{"https://app.example.com.evil.net", false},
			{"https://example.com", false},
			{"null", false},
			{"garbage", false},
			{"", true}, // no Origin header: not a browser
		}},
		{"exact with require", []string{"https://app.example.com"}, true, []check{
			{"https://app.example.com", true}, {"", false},
		}},
		{"explicit default port", []string{"http://localhost:80", "http://localhost:3000"}, false, []check{
			{"http://localhost", true}, {"http://localhost:3000", true}, {"http://localhost:3001", false},
		}},
		{"wildcard", []string{"https://*.example.com"}, false, []check{
			{"https://app.example.com", true},
			{"https://a.b.example.com", true},
			{"https://example.com", false},
			{"https://evilexample.com", false},
			{"https://app.example.com.evil.net", false},
			{"http://app.example.com", false},
			{"https://app.example.com:8443", false},
		}},
		{"wildcard with port", []string{"http://*.dev.test:8080"}, false, []check{
			{"http://a.dev.test:8080", true}, {"http://a.dev.test", false},
		}},
		{"ipv6", []string{"http://[::1]:8080"}, false, []check{
			{"http://[::1]:8080", true}, {"http://[::2]:8080", false},
		}},
		{"star", []string{"https://app.example.com", "*"}, true, []check{
			{"https://other.net", true}, {"null", true}, {"", false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewOriginCheck(tt.allow, tt.require)
			if err != nil {
				t.Fatal(err)
			}
			for _, ck := range tt.checks {
				if got := c.Allowed(ck.origin); got != ck.want {
					t.Errorf("Allowed(%q) = %v, want %v", ck.origin, got, ck.want)
				}
			}
		})
	}
}

func TestOriginCheckHandshake(t *testing.T) {
	c, err := NewOriginCheck([]string{"https://app.example.com"}, false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header http.Header
		ok     bool
	}{
		{"allowed", http.Header{"Origin": {"https://app.example.com"}}, true},
		{"refused", http.Header{"Origin": {"https://evil.example"}}, false},
		{"no header", http.Header{}, true},
		{"nil header", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Handshake(&router.Request{Header: tt.header})
			if tt.ok {
				if err != nil {
					t.Fatalf("Handshake = %v", err)
				}
				return
			}
			var he *router.HTTPError
			if !errors.As(err, &he) || he.Status != 403 || he.Reason != "origin not allowed" {
				t.Fatalf("Handshake = %#v, want a 403 HTTPError", err)
			}
		})
	}
}
