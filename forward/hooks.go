package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// connectRequest is the body POSTed to the connect hook.
type connectRequest struct {
	ClientIP string            `json:"client_ip"`
	URI      string            `json:"uri"`
	Headers  map[string]string `json:"headers"`
}

// connectHeaders are the request headers the connect hook is told: none
// that carries a credential.
var connectHeaders = []string{"Origin", "User-Agent"}

// subscribeRequest is the body POSTed to the subscribe hook.
type subscribeRequest struct {
	Session sessionInfo       `json:"session"`
	Topic   string            `json:"topic"`
	Tags    map[string]string `json:"tags"`
}

// hookAnswer is a hook's answer.
type hookAnswer struct {
	Allow *bool           `json:"allow"`
	Tags  json.RawMessage `json:"tags"`
}

// boundKey keys the connect hook's tags in the request's, then the
// session's, values: a []tagindex.Tag without a base.
type boundKey struct{}

// boundTags returns the tags the connect hook bound to s.
func boundTags(s *router.Session) []tagindex.Tag {
	tags, _ := s.Value(boundKey{}).([]tagindex.Tag)
	return tags
}

// handshake asks the connect hook about r (router.HandshakeFilter): it
// runs on r's handshake goroutine, which waits for the answer, at most the
// hook's Timeout.
func (f *Forwarder) handshake(r *router.Request) error {
	q := connectRequest{URI: r.URI, Headers: make(map[string]string)}
	if r.ClientIP.IsValid() {
		q.ClientIP = r.ClientIP.String()
	}
	for _, h := range connectHeaders {
		if v := r.Header.Get(h); v != "" {
			q.Headers[h] = v
		}
	}
	allow, tags, err := f.ask(context.Background(), f.conn, q)
	switch {
	case err != nil && f.conn.onError == Allow:
		return nil
	case err != nil:
		return &router.HTTPError{Status: http.StatusServiceUnavailable, Reason: "connection check unavailable"}
	case !allow:
		return &router.HTTPError{Status: http.StatusForbidden, Reason: "connection refused"}
	}
	if t := tags.Tags(); len(t) > 0 {
		r.SetValue(boundKey{}, t)
	}
	return nil
}

// subscribe applies the connect hook's bound tags to sub, then asks the
// subscribe hook (router.TopicHandler). It runs on the worker serving the
// session, which waits for the answer, at most the hook's Timeout.
func (f *Forwarder) subscribe(ctx context.Context, s *router.Session, sub *router.Subscription) error {
	if bound := boundTags(s); len(bound) > 0 {
		tags, err := bind(sub.Tags, bound, false)
		if err != nil {
			return err
		}
		sub.Tags = tags
	}
	if f.sub == nil {
		return nil
	}
	q := subscribeRequest{Session: sessionOf(s), Topic: sub.Topic, Tags: make(map[string]string)}
	for _, t := range sub.Tags.Tags() {
		if t.Key != tagindex.BaseKey {
			q.Tags[t.Key] = t.Value
		}
	}
	allow, tags, err := f.ask(ctx, f.sub, q)
	switch {
	case err != nil && f.sub.onError == Allow:
		return nil
	case err != nil:
		return fmt.Errorf("%w: %w", ErrRefused, err)
	case !allow:
		return ErrRefused
	}
	if t := tags.Tags(); len(t) > 0 {
		set, err := bind(sub.Tags, t, true)
		if err != nil {
			return err
		}
		sub.Tags = set
	}
	return nil
}

// publish drops a PUBLISH that names a tag the connect hook bound to the
// session with another value (docs/protocol.md#bound-tags).
func (f *Forwarder) publish(_ context.Context, s *router.Session, pub *router.Publication) error {
	for _, b := range boundTags(s) {
		if v, ok := pub.Tags.Get(b.Key); ok && v != b.Value {
			return ErrBoundTag
		}
	}
	return nil
}

// bind returns set with tags added. A key set already holds with another
// value is ErrBoundTag, unless override, which gives it the value of tags.
func bind(set tagindex.Set, tags []tagindex.Tag, override bool) (tagindex.Set, error) {
	m := make(map[string]string, set.Len()+len(tags))
	for _, t := range set.Tags() {
		if t.Key != tagindex.BaseKey {
			m[t.Key] = t.Value
		}
	}
	for _, t := range tags {
		if v, ok := m[t.Key]; ok && v != t.Value && !override {
			return tagindex.Set{}, ErrBoundTag
		}
		m[t.Key] = t.Value
	}
	base, _ := set.Base()
	out, err := tagindex.NewSet(base, m)
	if err != nil {
		return tagindex.Set{}, fmt.Errorf("forward: adding bound tags: %w", err)
	}
	return out, nil
}

// ask POSTs q to h and returns its decision and tags, or why it failed;
// the failure is logged. ctx's cancellation, Close's and h's Timeout end
// the question.
func (f *Forwarder) ask(ctx context.Context, h *hook, q any) (allow bool, tags tagindex.Set, err error) {
	defer func() {
		if err != nil {
			f.log.Warn("forward: hook failed", "hook", h.name, "on_error", h.onError.String(), "err", err)
		}
	}()
	if f.ctx.Err() != nil {
		return false, tags, ErrClosed
	}
	if !h.acquire() {
		return false, tags, ErrBusy
	}
	defer h.release()
	body, err := json.Marshal(q)
	if err != nil {
		return false, tags, err
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	stop := context.AfterFunc(f.ctx, cancel)
	defer stop()
	resp, err := h.post(ctx, body, f.maxBody)
	if err != nil {
		return false, tags, err
	}
	var a hookAnswer
	if err := json.Unmarshal(resp, &a); err != nil || a.Allow == nil {
		return false, tags, fmt.Errorf(`%w: want {"allow": true|false}, got %q`, ErrBadAnswer, logval.String(string(resp)))
	}
	if len(a.Tags) > 0 && string(a.Tags) != "null" {
		if tags, err = tagindex.ParseJSON(a.Tags); err != nil {
			return false, tags, fmt.Errorf("%w: tags: %w", ErrBadAnswer, err)
		}
	}
	return *a.Allow, tags, nil
}
