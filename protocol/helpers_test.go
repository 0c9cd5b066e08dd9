package protocol

import (
	"fmt"
	"strings"
)

// show renders the field of m that its Type selects, for comparisons and
// failure messages. A nil and an empty list render alike.
func show(m *Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v", m.Type)
	q := func(name string, v []byte) { fmt.Fprintf(&b, " %s=%q", name, v) }
	l := func(name string, vs [][]byte) {
		fmt.Fprintf(&b, " %s=[", name)
		for i, v := range vs {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%q", v)
		}
		b.WriteByte(']')
	}
	switch m.Type {
	case TypeWelcome:
		q("session", m.Welcome.SessionID)
		fmt.Fprintf(&b, " version=%d", m.Welcome.Version)
		q("ident", m.Welcome.ServerIdent)
	case TypePrefix:
		q("prefix", m.Prefix.Prefix)
		q("uri", m.Prefix.URI)
	case TypeCall:
		q("id", m.Call.CallID)
		q("proc", m.Call.ProcURI)
		l("args", m.Call.Args)
	case TypeCallResult:
		q("id", m.CallResult.CallID)
		q("result", m.CallResult.Result)
	case TypeCallError:
		q("id", m.CallError.CallID)
		q("uri", m.CallError.ErrorURI)
		q("desc", m.CallError.ErrorDesc)
		if m.CallError.ErrorDetails != nil {
			q("details", m.CallError.ErrorDetails)
		}
	case TypeSubscribe:
		q("topic", m.Subscribe.TopicURI)
	case TypeUnsubscribe:
		q("topic", m.Unsubscribe.TopicURI)
	case TypePublish:
		p := &m.Publish
		q("topic", p.TopicURI)
		q("event", p.Event)
		fmt.Fprintf(&b, " exclude=%d", p.Exclude)
		if p.Exclude == ExcludeList {
			l("ids", p.ExcludeIDs)
		}
		if p.HasEligible {
			l("eligible", p.Eligible)
		}
	case TypeEvent:
		q("topic", m.Event.TopicURI)
		q("event", m.Event.Event)
	}
	return b.String()
}

// strs turns borrowed byte slices into strings.
func strs(vs [][]byte) []string {
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// callIDString returns the Go string a raw callId token stands for: the
// contents of a string token, the text of a number token.
func callIDString(tok []byte) string {
	if len(tok) > 0 && tok[0] == '"' {
		return string(unescape(nil, tok[1:len(tok)-1]))
	}
	return string(tok)
}

// appendMessage re-encodes a decoded message with the Append functions.
// WELCOME is always re-encoded with version 1, and a CALLERROR whose
// details are null in the 4-element form.
func appendMessage(dst []byte, m *Message) []byte {
	switch m.Type {
	case TypeWelcome:
		return AppendWelcome(dst, string(m.Welcome.SessionID), string(m.Welcome.ServerIdent))
	case TypePrefix:
		return AppendPrefix(dst, string(m.Prefix.Prefix), string(m.Prefix.URI))
	case TypeCall:
		return AppendCall(dst, callIDString(m.Call.CallID), string(m.Call.ProcURI), m.Call.Args...)
	case TypeCallResult:
		return AppendCallResult(dst, m.CallResult.CallID, m.CallResult.Result)
	case TypeCallError:
		e := &m.CallError
		return AppendCallError(dst, e.CallID, string(e.ErrorURI), string(e.ErrorDesc), e.ErrorDetails)
	case TypeSubscribe:
		return AppendSubscribe(dst, string(m.Subscribe.TopicURI))
	case TypeUnsubscribe:
		return AppendUnsubscribe(dst, string(m.Unsubscribe.TopicURI))
	case TypePublish:
		p := &m.Publish
		return AppendPublish(dst, string(p.TopicURI), p.Event, PublishOptions{
			Exclude: p.Exclude, ExcludeIDs: strs(p.ExcludeIDs), Eligible: strs(p.Eligible), HasEligible: p.HasEligible,
		})
	case TypeEvent:
		return AppendEvent(dst, string(m.Event.TopicURI), m.Event.Event)
	}
	panic("unknown type")
}

// normalize rewrites what re-encoding legitimately changes, so that
// show(normalize(m)) compares a decoded message with its re-encoded form:
// the WELCOME version, null CALLERROR details, and the callId token, which
// is compared by the string it stands for.
func normalize(m *Message) string {
	c := *m
	switch c.Type {
	case TypeWelcome:
		c.Welcome.Version = 1
	case TypeCallError:
		if c.CallError.ErrorDetails != nil && isNull(c.CallError.ErrorDetails) {
			c.CallError.ErrorDetails = nil
		}
		c.CallError.CallID = []byte(callIDString(c.CallError.CallID))
	case TypeCall:
		c.Call.CallID = []byte(callIDString(c.Call.CallID))
	case TypeCallResult:
		c.CallResult.CallID = []byte(callIDString(c.CallResult.CallID))
	}
	return show(&c)
}

// nest returns n opening and n closing brackets around inner.
func nest(n int, inner string) string {
	return strings.Repeat("[", n) + inner + strings.Repeat("]", n)
}

// jsonDepth returns the deepest nesting of arrays and objects in a frame,
// strings skipped.
func jsonDepth(b []byte) int {
	depth, maxDepth, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			depth++
			maxDepth = max(maxDepth, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return maxDepth
}

// bs is []byte(s), shorter.
func bs(s string) []byte { return []byte(s) }
