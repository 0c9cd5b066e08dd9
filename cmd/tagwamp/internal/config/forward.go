package config

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tagwamp/tagwamp/forward"
)

// Forward is the forward section: CALLs forwarded to HTTP services, and
// HTTP hooks asked about connections and subscriptions (package forward,
// whose doc has the JSON each service gets and answers). Default: nothing
// forwarded, no hook.
type Forward struct {
	// Routes, key routes, each forward the calls under a prefix; the
	// longest matching prefix wins. Default none.
	Routes []ForwardRoute `yaml:"routes"`
	// SubscribeHook, key subscribe_hook, is asked about every SUBSCRIBE.
	// Default none.
	SubscribeHook *ForwardHook `yaml:"subscribe_hook"`
	// ConnectHook, key connect_hook, is asked about every connection
	// before its upgrade. Default none.
	ConnectHook *ForwardHook `yaml:"connect_hook"`
}

// ForwardRoute is one entry of forward.routes, a forward.Route.
type ForwardRoute struct {
	// Name, key name, names the backend in logs and in the busy
	// CALLERROR. Default the prefix.
	Name string `yaml:"name"`
	// Prefix, key prefix, selects the calls: every procedure URI that
	// starts with it. Required, unique.
	Prefix string `yaml:"prefix"`
	// URL, key url, is the http:// or https:// URL calls are POSTed to.
	// Required.
	URL string `yaml:"url"`
	// Timeout, key timeout, bounds one call. Default 5s.
	Timeout Duration `yaml:"timeout"`
	// MaxInFlight, key max_in_flight, bounds the calls running at once;
	// one more answers http://tagwamp.dev/error#busy. Default 256.
	MaxInFlight int `yaml:"max_in_flight"`
	// Headers, key headers, are added to each request (an API key the
	// service checks). Never logged. Default none.
	Headers map[string]string `yaml:"headers"`
}

// ForwardHook is forward.subscribe_hook or forward.connect_hook, a
// forward.Hook.
type ForwardHook struct {
	// URL, key url, is the http:// or https:// URL asked. Required.
	URL string `yaml:"url"`
	// Timeout, key timeout, bounds one question. Default 2s.
	Timeout Duration `yaml:"timeout"`
	// OnError, key on_error, is what a failed question decides: refuse
	// or allow. Default refuse.
	OnError string `yaml:"on_error"`
	// MaxInFlight, key max_in_flight, bounds the questions running at
	// once; one more has failed. Default 256.
	MaxInFlight int `yaml:"max_in_flight"`
	// Headers, key headers, are added to each request. Never logged.
	// Default none.
	Headers map[string]string `yaml:"headers"`
}

// Enabled reports whether the section forwards anything or has a hook.
func (f Forward) Enabled() bool {
	return len(f.Routes) > 0 || f.SubscribeHook != nil || f.ConnectHook != nil
}

// Options returns the forward.Options the section describes.
func (f Forward) Options(logger *slog.Logger) forward.Options {
	o := forward.Options{Logger: logger}
	for _, r := range f.Routes {
		o.Routes = append(o.Routes, forward.Route{Name: r.Name, Prefix: r.Prefix, URL: r.URL,
			Timeout: time.Duration(r.Timeout), MaxInFlight: r.MaxInFlight, Header: header(r.Headers)})
	}
	hook := func(h *ForwardHook) *forward.Hook {
		if h == nil {
			return nil
		}
		fh := &forward.Hook{URL: h.URL, Timeout: time.Duration(h.Timeout), MaxInFlight: h.MaxInFlight,
			Header: header(h.Headers)}
		if strings.EqualFold(h.OnError, "allow") {
			fh.OnError = forward.Allow
		}
		return fh
	}
	o.SubscribeHook, o.ConnectHook = hook(f.SubscribeHook), hook(f.ConnectHook)
	return o
}

func header(m map[string]string) http.Header {
	if len(m) == 0 {
		return nil
	}
	h := make(http.Header, len(m))
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// validateForward checks the forward section.
func (c *Config) validateForward(bad func(key, format string, args ...any)) {
	f := &c.Forward
	seen := make(map[string]bool, len(f.Routes))
	for i, r := range f.Routes {
		key := fmt.Sprintf("forward.routes[%d]", i)
		switch {
		case r.Prefix == "":
			bad(key+".prefix", "must not be empty (a URI prefix like http://example.com/app#)")
		case seen[r.Prefix]:
			bad(key+".prefix", "duplicate prefix %q", r.Prefix)
		}
		seen[r.Prefix] = true
		if err := forward.CheckURL(r.URL); err != nil {
			bad(key+".url", "%v", err)
		}
		checkForwardCommon(bad, key, r.Timeout, r.MaxInFlight, r.Headers)
	}
	for _, h := range []struct {
		key string
		h   *ForwardHook
	}{{"forward.subscribe_hook", f.SubscribeHook}, {"forward.connect_hook", f.ConnectHook}} {
		if h.h == nil {
			continue
		}
		if err := forward.CheckURL(h.h.URL); err != nil {
			bad(h.key+".url", "%v", err)
		}
		switch strings.ToLower(h.h.OnError) {
		case "", "refuse", "allow":
		default:
			bad(h.key+".on_error", "must be refuse or allow, not %q", h.h.OnError)
		}
		checkForwardCommon(bad, h.key, h.h.Timeout, h.h.MaxInFlight, h.h.Headers)
	}
}

// checkForwardCommon checks the keys routes and hooks share.
func checkForwardCommon(bad func(key, format string, args ...any), key string, timeout Duration, maxInFlight int, headers map[string]string) {
	if timeout != 0 {
		checkDuration(bad, key+".timeout", timeout, false)
	}
	if maxInFlight < 0 {
		bad(key+".max_in_flight", "must be positive (absent: 256)")
	}
	for k, v := range headers {
		if k == "" || strings.ContainsAny(k, " :\t\r\n") || strings.ContainsAny(v, "\r\n") {
			bad(key+".headers", "%q is not a header name with a one-line value", k)
		}
	}
}
