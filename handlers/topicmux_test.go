package handlers

import (
	"context"
	"errors"
	"testing"

	"github.com/tagwamp/tagwamp/router"
	"github.com/tagwamp/tagwamp/tagindex"
)

// recorder is a TopicHandler that records its name in *seen and answers
// err.
type recorder struct {
	name string
	seen *string
	err  error
}

func (r recorder) Subscribe(context.Context, *router.Session, *router.Subscription) error {
	*r.seen = "sub:" + r.name
	return r.err
}

func (r recorder) Publish(context.Context, *router.Session, *router.Publication) error {
	*r.seen = "pub:" + r.name
	return r.err
}

var errDenied = errors.New("denied")

func TestTopicMux(t *testing.T) {
	var seen string
	var m TopicMux
	m.Handle("http://ex.com/news", recorder{"news", &seen, nil})
	m.Handle("http://ex.com/secret", recorder{"secret", &seen, errDenied})
	m.HandlePrefix("http://ex.com/chat/", recorder{"chat", &seen, nil})
	m.HandlePrefix("http://ex.com/chat/private/", recorder{"private", &seen, errDenied})
	m.Handle("", recorder{"tags-only", &seen, errDenied})

	tests := []struct {
		topic string
		want  string // handler name, "" when none
		err   error
	}{
		{"http://ex.com/news", "news", nil},
		{"http://ex.com/news?lang=FR&user=42", "news", nil},
		{"http://ex.com/news2", "", nil},
		{"http://ex.com/secret?x=1", "secret", errDenied},
		{"http://ex.com/chat/room1", "chat", nil},
		{"http://ex.com/chat/private/bob?a=b", "private", errDenied},
		{"http://ex.com/chat", "", nil},
		{"?user=42", "tags-only", errDenied},
		{"", "tags-only", errDenied},
		{"urn:other", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			tags, err := tagindex.ParseTopic(tt.topic)
			if err != nil {
				t.Fatal(err)
			}
			seen = ""
			err = m.Subscribe(context.Background(), nil, &router.Subscription{Topic: tt.topic, Tags: tags})
			if want := prefixed("sub:", tt.want); seen != want || err != tt.err {
				t.Errorf("Subscribe: seen %q, err %v; want %q, %v", seen, err, want, tt.err)
			}
			seen = ""
			err = m.Publish(context.Background(), nil, &router.Publication{Topic: tt.topic, Tags: tags})
			if want := prefixed("pub:", tt.want); seen != want || err != tt.err {
				t.Errorf("Publish: seen %q, err %v; want %q, %v", seen, err, want, tt.err)
			}
		})
	}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// TestTopicMuxReadsTags checks that dispatch follows Tags, as an outer
// middleware may have replaced them, not Topic.
func TestTopicMuxReadsTags(t *testing.T) {
	var seen string
	var m TopicMux
	m.Handle("urn:b", recorder{"b", &seen, nil})
	tags, err := tagindex.NewSet("urn:b", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Subscribe(context.Background(), nil, &router.Subscription{Topic: "urn:a", Tags: tags}); err != nil || seen != "sub:b" {
		t.Fatalf("seen %q, err %v", seen, err)
	}
}

func TestTopicMuxCatchAll(t *testing.T) {
	var seen string
	var m TopicMux
	m.HandlePrefix("", recorder{"all", &seen, errDenied})
	h, pattern := m.Handler("anything")
	if h == nil || pattern != "" {
		t.Fatalf("Handler = %v, %q", h, pattern)
	}
	if err := m.Publish(context.Background(), nil, &router.Publication{}); err != errDenied || seen != "pub:all" {
		t.Fatalf("seen %q, err %v", seen, err)
	}
	exact, prefixes := m.Patterns()
	if len(exact) != 0 || len(prefixes) != 1 {
		t.Fatalf("Patterns = %q, %q", exact, prefixes)
	}
}

func TestTopicMuxPanics(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m *TopicMux)
	}{
		{"duplicate", func(m *TopicMux) { m.Handle("u", router.TopicFuncs{}); m.Handle("u", router.TopicFuncs{}) }},
		{"duplicate prefix", func(m *TopicMux) {
			m.HandlePrefix("u", router.TopicFuncs{})
			m.HandlePrefix("u", router.TopicFuncs{})
		}},
		{"nil", func(m *TopicMux) { m.Handle("u", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tt.setup(new(TopicMux))
		})
	}
}
