// Package logval bounds what a log line copies from a client: a URI, a
// topic, a key or any other string a peer chose is cut to Max bytes before
// it reaches a logger, so that one hostile message (up to the router's
// max_message_size) cannot turn into megabytes of log per line.
//
//	log.Debug("auth: call denied", "session", s.ID(), "procedure", logval.String(c.URI))
//
// String never logs more than Max bytes of its argument plus a short
// marker that says how long the whole value was; it cuts on a UTF-8
// boundary so that the text stays valid. It is not a redaction tool:
// secrets, signatures and tokens must never be logged at all, truncated or
// not.
//
// String is a pure function, safe for concurrent use; it returns either s
// itself or a new string, never bytes that alias a caller's buffer other
// than s.
package logval
