package tagindex_test

import (
	"fmt"
	"slices"

	"github.com/tagwamp/tagwamp/tagindex"
)

func ExampleParseTopic() {
	s, err := tagindex.ParseTopic("http://example.com/news?user=42&lang=FR&q=a+b%20c")
	if err != nil {
		fmt.Println(err)
		return
	}
	base, _ := s.Base()
	lang, _ := s.Get("lang")
	fmt.Println(base, lang)
	for _, t := range s.Tags() {
		fmt.Printf("%q=%q\n", t.Key, t.Value)
	}
	fmt.Println(s)
	// Output:
	// http://example.com/news FR
	// ""="http://example.com/news"
	// "lang"="FR"
	// "q"="a+b c"
	// "user"="42"
	// http://example.com/news?lang=FR&q=a%2Bb%20c&user=42
}

func ExampleParseJSON() {
	s, err := tagindex.ParseJSON([]byte(`{"language":"FR","user":42}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	t, _ := tagindex.ParseTopic("?user=42&language=FR")
	fmt.Println(s, s.Equal(t))

	_, err = tagindex.ParseJSON([]byte(`{"user":4.2}`))
	fmt.Println(err)
	// Output:
	// ?language=FR&user=42 true
	// tagindex: tag value is not a string or an integer: key "user": 4.2
}

func ExampleIndex_Match() {
	var idx tagindex.Index[string] // the zero value is ready
	for _, topic := range []string{"news?lang=FR", "news?lang=FR&user=42", "news?lang=EN", "news", "sport?user=42"} {
		s, _ := tagindex.ParseTopic(topic)
		idx.Add(s, topic) // the router would add its subscription
	}

	var p tagindex.Set // reused from one publication to the next
	for _, topic := range []string{"news?lang=FR", "news", "?user=42"} {
		if err := p.ParseTopic([]byte(topic)); err != nil {
			fmt.Println(err)
			continue
		}
		var reached []string
		n := idx.Match(p, func(sub string) { reached = append(reached, sub) })
		slices.Sort(reached) // Match calls in no particular order
		fmt.Println(topic, n, reached)
	}
	// Output:
	// news?lang=FR 2 [news?lang=FR news?lang=FR&user=42]
	// news 4 [news news?lang=EN news?lang=FR news?lang=FR&user=42]
	// ?user=42 2 [news?lang=FR&user=42 sport?user=42]
}

func ExampleIndex_RemoveHandle() {
	// A subscriber keeps the Handle that Add returns, not its tag set.
	type subscription struct {
		topic string
		h     tagindex.Handle
	}
	var idx tagindex.Index[*subscription]
	var subs []*subscription
	for _, topic := range []string{"news?lang=FR", "news?user=42&lang=FR"} {
		s, _ := tagindex.ParseTopic(topic)
		sub := &subscription{topic: topic}
		sub.h = idx.Add(s, sub)
		subs = append(subs, sub)
	}
	p, _ := tagindex.ParseTopic("news?lang=FR")
	fmt.Println(idx.Match(p, func(*subscription) {}))

	fmt.Println(idx.RemoveHandle(subs[0].h, subs[0])) // on UNSUBSCRIBE
	fmt.Println(idx.Match(p, func(s *subscription) { fmt.Println(s.topic) }))
	// Output:
	// 2
	// true
	// news?user=42&lang=FR
	// 1
}
