package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Secret is an application secret. It prints as "[redacted]" in every
// form the standard library knows (fmt verbs, %#v, slog, encoding.Text*,
// and so JSON and YAML encoders), so a secret kept in a struct never
// reaches a log line, an error or a metric by accident. Its text is read
// only where it is used: Reveal.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb, so %s, %q, %x and %v all
// redact.
func (Secret) Format(f fmt.State, _ rune) { f.Write([]byte(redacted)) }

// LogValue returns "[redacted]" for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[redacted]": encoders never write the secret.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// UnmarshalText sets the secret from text, so configuration decoders that
// honour encoding.TextUnmarshaler read it as given.
func (s *Secret) UnmarshalText(b []byte) error {
	*s = Secret(b)
	return nil
}

// Reveal returns the secret's text. Call it only to compute a MAC or a key.
func (s Secret) Reveal() string { return string(s) }

// digest is the SHA-256 of a secret: comparing digests in constant time
// reveals neither the secret nor its length.
type digest [sha256.Size]byte

func digestOf(s string) digest { return sha256.Sum256([]byte(s)) }

// equal compares two digests in constant time.
func (d *digest) equal(o *digest) bool { return subtle.ConstantTimeCompare(d[:], o[:]) == 1 }
