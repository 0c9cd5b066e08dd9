// Package tagindex holds tag sets and the inverted index that routes tagged publications to
// tagged subscriptions (docs/protocol.md#tag-topics and #plain-connections).
//
// A topic such as http://example.com/news?lang=FR&user=42 is a tag set: its base
// (http://example.com/news), held as a tag under the reserved key BaseKey, plus one tag per
// key=value pair of its query. Plain tag connections and backends give tags as a JSON object
// instead ({"lang":"FR","user":42}), with no base. Match finds the subscriptions whose set
// holds every tag of the publication's (docs/protocol.md#tag-matching).
//
// # Usage
//
//	var idx tagindex.Index[*Subscription] // the zero value is ready
//
//	s, err := tagindex.ParseTopic("http://example.com/news?lang=FR&user=42")
//	if err != nil { ... }               // malformed: dropped (docs/protocol.md#dropped-messages)
//	sub.h = idx.Add(s, sub)             // keep the Handle, not s
//
//	var p tagindex.Set                  // one per worker, reused
//	if err := p.ParseTopic(topic); err != nil { ... } // topic is a []byte from the frame
//	idx.Match(p, func(sub *Subscription) { deliver(sub) })
//
//	idx.RemoveHandle(sub.h, sub)        // on UNSUBSCRIBE or disconnect
//
// # Parsing rules
//
// ParseTopic implements the topic rules of docs/protocol.md#tag-topics in one pass over the
// topic, percent-decoding in place; ParseJSON the JSON tags of docs/protocol.md#plain-connections,
// with encoding/json's token API. Both return the errors of errors.go for what the rules refuse.
// Set.String writes the canonical topic form back, which ParseTopic reads as an equal set.
//
// # Limits
//
// A client never chooses the cost of a parse (docs/protocol.md#limits): ParseTopic, (*Set).ParseTopic
// and ParseJSON refuse a topic or object over 4096 bytes (ErrTooLong) before reading it, and one
// of more than 32 user tags (ErrTooManyTags) before decoding them. ParseTopicLimits,
// (*Set).ParseTopicLimits and ParseJSONLimits take other Limits; there is no global setting.
//
// # Concurrency and borrowed memory
//
// Index is safe for concurrent use: Add, Remove and RemoveHandle take a write lock, Match and Len a
// read lock, and Match calls its callback under that read lock, so the callback must not call the
// same index.
// Sets from ParseTopic, ParseJSON, NewSet and Set.Clone are immutable and may be shared. A Set
// filled by (*Set).ParseTopic borrows its own reusable buffers: its strings are valid until the
// next ParseTopic or Reset of that variable, and it must not be used by one goroutine while
// another parses into it. Index.Add copies what it keeps, so such a set can be added directly.
// (*Set).ParseTopic reads its []byte argument only during the call.
package tagindex
