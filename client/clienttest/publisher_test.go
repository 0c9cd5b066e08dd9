package clienttest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/protocol"
)

// topics returns the topics of pubs.
func topics(pubs []Publication) []string {
	var out []string
	for _, p := range pubs {
		out = append(out, p.Topic)
	}
	return out
}

// fill publishes every topic of list to a new Publisher, with the event
// "e<i>".
func fill(t *testing.T, list ...string) *Publisher {
	t.Helper()
	p := &Publisher{}
	for i, topic := range list {
		if err := p.Publish(topic, fmt.Sprint("e", i)); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestFindByTags(t *testing.T) {
	p := fill(t,
		"?tag0=tag0Value",
		"?tag1=tag0Value",
		"?tag0=tag0Value&tag1=tag1Value",
		"http://x/news?lang=FR&user=42",
		"http://x/news?user=42&lang=EN",
		"http://x/news",
		client.Topic("http://x/odd", map[string]string{"q": "a b&c=d", "lang": "FR"}),
		"http://x/bad?not a pair",
	)
	tests := []struct {
		name string
		tags map[string]string
		want []string
	}{
		{"one tag", map[string]string{"tag0": "tag0Value"}, []string{"?tag0=tag0Value", "?tag0=tag0Value&tag1=tag1Value"}},
		{"two tags", map[string]string{"tag0": "tag0Value", "tag1": "tag1Value"}, []string{"?tag0=tag0Value&tag1=tag1Value"}},
		{"any base", map[string]string{"lang": "FR"}, []string{"http://x/news?lang=FR&user=42", "http://x/odd?lang=FR&q=a%20b%26c%3Dd"}},
		{"decoded value", map[string]string{"q": "a b&c=d"}, []string{"http://x/odd?lang=FR&q=a%20b%26c%3Dd"}},
		{"order of the query does not matter", map[string]string{"user": "42", "lang": "EN"}, []string{"http://x/news?user=42&lang=EN"}},
		{"no match", map[string]string{"tag0": "other"}, nil},
		{"key that is not a name", map[string]string{"a b": "x"}, nil},
		{"no tags: every well-formed topic", nil, []string{
			"?tag0=tag0Value", "?tag1=tag0Value", "?tag0=tag0Value&tag1=tag1Value",
			"http://x/news?lang=FR&user=42", "http://x/news?user=42&lang=EN", "http://x/news",
			"http://x/odd?lang=FR&q=a%20b%26c%3Dd",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := topics(p.FindByTags(tt.tags)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FindByTags(%v) = %q, want %q", tt.tags, got, tt.want)
			}
		})
	}
}

func TestFindByTopic(t *testing.T) {
	p := fill(t, "http://x/news?lang=FR", "http://x/news", "http://x/sport?lang=FR", "?lang=FR")
	tests := []struct {
		base string
		want []string
	}{
		{"http://x/news", []string{"http://x/news?lang=FR", "http://x/news"}},
		{"http://x/sport", []string{"http://x/sport?lang=FR"}},
		{"", []string{"?lang=FR"}},
		{"http://x/none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			if got := topics(p.FindByTopic(tt.base)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FindByTopic(%q) = %q, want %q", tt.base, got, tt.want)
			}
		})
	}
}

func TestPublishRecords(t *testing.T) {
	var p Publisher
	raw := json.RawMessage(`{"a": 1}`)
	records := []struct {
		event any
		opts  []client.PublishOption
		want  Publication
	}{
		{map[string]int{"n": 1}, nil, Publication{Topic: "t", Event: json.RawMessage(`{"n":1}`)}},
		{raw, []client.PublishOption{client.ExcludeMe(false)}, Publication{Topic: "t", Event: json.RawMessage(`{"a": 1}`), Options: protocol.PublishOptions{Exclude: protocol.ExcludeNone}}},
		{nil, []client.PublishOption{client.Exclude("s1"), client.Eligible("s2", "s3")}, Publication{Topic: "t", Event: json.RawMessage(`null`),
			Options: protocol.PublishOptions{Exclude: protocol.ExcludeList, ExcludeIDs: []string{"s1"}, Eligible: []string{"s2", "s3"}, HasEligible: true}}},
	}
	var want []Publication
	for _, r := range records {
		if err := p.Publish("t", r.event, r.opts...); err != nil {
			t.Fatal(err)
		}
		want = append(want, r.want)
	}
	raw[2] = 'X' // the record is a copy
	if got := p.Publications(); !reflect.DeepEqual(got, want) {
		t.Errorf("Publications() = %+v\nwant %+v", got, want)
	}
	if got := (Publication{Topic: "http://x/n?b=2&a=1"}).Tags(); !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("Tags() = %v", got)
	}
	if got := (Publication{Topic: "http://x/n"}).Tags(); got != nil {
		t.Errorf("Tags() of a topic without tags = %v", got)
	}
}

func TestPublishErrors(t *testing.T) {
	var p Publisher
	if err := p.Publish("t", make(chan int)); err == nil {
		t.Error("publishing a channel succeeded")
	}
	if err := p.Publish("t", json.RawMessage(`{`)); err == nil {
		t.Error("publishing invalid JSON succeeded")
	}
	broken := errors.New("connection lost")
	p.FailWith(broken)
	if err := p.Publish("t", 1); err != broken {
		t.Errorf("Publish after FailWith: %v", err)
	}
	if n := len(p.Publications()); n != 0 {
		t.Errorf("%d publications recorded, want 0", n)
	}
	p.Reset()
	if err := p.Publish("t", 1); err != nil {
		t.Errorf("Publish after Reset: %v", err)
	}
	if n := len(p.Publications()); n != 1 {
		t.Errorf("%d publications recorded, want 1", n)
	}
	p.Reset()
	if n := len(p.Publications()); n != 0 {
		t.Errorf("%d publications after Reset, want 0", n)
	}
}

func TestPublisherConcurrent(t *testing.T) {
	var p Publisher
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			p.Publish(client.Topic("n", map[string]string{"g": fmt.Sprint(i % 5)}), i)
			p.FindByTags(map[string]string{"g": "1"})
		})
	}
	wg.Wait()
	if n := len(p.Publications()); n != 50 {
		t.Errorf("%d publications, want 50", n)
	}
	if n := len(p.FindByTags(map[string]string{"g": "1"})); n != 10 {
		t.Errorf("%d publications with g=1, want 10", n)
	}
}
