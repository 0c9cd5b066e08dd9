package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/tagwamp/tagwamp/cluster"
)

// Broker is the broker section: cluster mode, the servers that share
// publications (package cluster). Default off: a single process.
type Broker struct {
	// NATS, key nats, joins the cluster over NATS. Default none.
	NATS *BrokerNATS `yaml:"nats"`
}

// BrokerNATS is broker.nats, a cluster.Options.
type BrokerNATS struct {
	// URLs, key urls, are the NATS servers (nats://host:4222, or tls://).
	// Required.
	URLs []string `yaml:"urls"`
	// SubjectPrefix, key subject_prefix, starts every subject the cluster
	// uses; clusters sharing NATS servers need one each. Default
	// "tagwamp".
	SubjectPrefix string `yaml:"subject_prefix"`
	// Credentials, key credentials, is a NATS credentials file. Default
	// none.
	Credentials string `yaml:"credentials"`
	// User and Password, keys user and password, authenticate with a
	// user; Token, key token, with a token. Never logged. Default none.
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	Token    string `yaml:"token"`
	// ReconnectWait, key reconnect_wait, is the first delay between
	// reconnections, doubled up to 2s. Default 100ms.
	ReconnectWait Duration `yaml:"reconnect_wait"`
	// PresenceTimeout, key presence_timeout, bounds how long /api/presence
	// waits for the other servers' answers. Default 1s.
	PresenceTimeout Duration `yaml:"presence_timeout"`
	// Heartbeat, key heartbeat, is how often a server announces itself to
	// the others; one silent for three is no longer waited for by
	// /api/presence. Default 5s.
	Heartbeat Duration `yaml:"heartbeat"`
}

// Enabled reports whether the section configures a broker.
func (b Broker) Enabled() bool { return b.NATS != nil }

// Options returns the cluster.Options of broker.nats.
func (b Broker) Options() cluster.Options {
	n := b.NATS
	return cluster.Options{URLs: n.URLs, SubjectPrefix: n.SubjectPrefix, Credentials: n.Credentials,
		User: n.User, Password: n.Password, Token: n.Token, ReconnectWait: time.Duration(n.ReconnectWait),
		PresenceTimeout: time.Duration(n.PresenceTimeout), HeartbeatInterval: time.Duration(n.Heartbeat)}
}

// validateBroker checks the broker section.
func (c *Config) validateBroker(bad func(key, format string, args ...any)) {
	n := c.Broker.NATS
	if n == nil {
		return
	}
	if len(n.URLs) == 0 {
		bad("broker.nats.urls", "at least one NATS server URL is required")
	}
	for _, u := range n.URLs {
		p, err := url.Parse(u)
		if err != nil || p.Host == "" || p.Scheme != "nats" && p.Scheme != "tls" {
			bad("broker.nats.urls", "%q is not a nats:// or tls:// URL", u)
		}
	}
	if p := n.SubjectPrefix; p != "" && !subjectPrefix(p) {
		bad("broker.nats.subject_prefix", "%q is not a NATS subject: dot-separated non-empty tokens without spaces, * or >", p)
	}
	if (n.User == "") != (n.Password == "") {
		bad("broker.nats.user", "user and password go together")
	}
	if n.Token != "" && n.User != "" {
		bad("broker.nats.token", "token and user exclude each other")
	}
	if n.ReconnectWait < 0 {
		bad("broker.nats.reconnect_wait", "must not be negative")
	}
	if n.PresenceTimeout < 0 {
		bad("broker.nats.presence_timeout", "must not be negative")
	}
	if n.Heartbeat < 0 {
		bad("broker.nats.heartbeat", "must not be negative")
	}
}

// subjectPrefix reports whether p can start a NATS subject.
func subjectPrefix(p string) bool {
	for _, tok := range strings.Split(p, ".") {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n*>") {
			return false
		}
	}
	return true
}
