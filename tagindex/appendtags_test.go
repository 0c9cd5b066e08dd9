package tagindex

import (
	"slices"
	"testing"
)

func TestAppendTags(t *testing.T) {
	var x Index[int]
	for _, uri := range []string{"news", "news?lang=FR", "?user=42", "a?b=1&c=2&d=3&e=4&f=5&g=6"} {
		t.Run(uri, func(t *testing.T) {
			s := mustTopic(t, uri)
			h := x.Add(s, 1)
			if got := x.AppendTags(nil, h); !slices.Equal(got, s.Tags()) {
				t.Fatalf("AppendTags = %v, want %v", got, s.Tags())
			}
			x.RemoveHandle(h, 1)
			if got := x.AppendTags(nil, h); len(got) != 0 {
				t.Fatalf("AppendTags after removal = %v, want none", got)
			}
		})
	}
	if got := x.AppendTags(nil, Handle{}); got != nil {
		t.Fatalf("AppendTags(zero Handle) = %v", got)
	}
}
