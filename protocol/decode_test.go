package protocol

import (
	"errors"
	"strings"
	"testing"
)

// Constructors of expected messages.

func welcome(sid string, v int, ident string) Message {
	return Message{Type: TypeWelcome, Welcome: Welcome{SessionID: bs(sid), Version: v, ServerIdent: bs(ident)}}
}

func prefix(p, uri string) Message {
	return Message{Type: TypePrefix, Prefix: Prefix{Prefix: bs(p), URI: bs(uri)}}
}

func call(idToken, proc string, args ...string) Message {
	m := Message{Type: TypeCall, Call: Call{CallID: bs(idToken), ProcURI: bs(proc)}}
	for _, a := range args {
		m.Call.Args = append(m.Call.Args, bs(a))
	}
	return m
}

func callResult(idToken, result string) Message {
	return Message{Type: TypeCallResult, CallResult: CallResult{CallID: bs(idToken), Result: bs(result)}}
}

func callError(idToken, uri, desc string, details []byte) Message {
	return Message{Type: TypeCallError, CallError: CallError{CallID: bs(idToken), ErrorURI: bs(uri), ErrorDesc: bs(desc), ErrorDetails: details}}
}

func subscribe(topic string) Message {
	return Message{Type: TypeSubscribe, Subscribe: Subscribe{TopicURI: bs(topic)}}
}

func unsubscribe(topic string) Message {
	return Message{Type: TypeUnsubscribe, Unsubscribe: Unsubscribe{TopicURI: bs(topic)}}
}

func publish(topic, event string, ex ExcludeMode, ids []string, eligible []string, has bool) Message {
	m := Message{Type: TypePublish, Publish: Publish{TopicURI: bs(topic), Event: bs(event), Exclude: ex, HasEligible: has}}
	for _, id := range ids {
		m.Publish.ExcludeIDs = append(m.Publish.ExcludeIDs, bs(id))
	}
	for _, id := range eligible {
		m.Publish.Eligible = append(m.Publish.Eligible, bs(id))
	}
	return m
}

func event(topic, ev string) Message {
	return Message{Type: TypeEvent, Event: Event{TopicURI: bs(topic), Event: bs(ev)}}
}

// decodeCases are well-formed frames and what they decode to.
var decodeCases = []struct {
	name  string
	frame string
	want  Message
}{
	{"welcome", `[0,"v59mbCGDXZ7WTyxB",1,"Autobahn/0.5.1"]`, welcome("v59mbCGDXZ7WTyxB", 1, "Autobahn/0.5.1")},
	{"welcome/version-2", `[0,"s",2,"x"]`, welcome("s", 2, "x")},
	{"welcome/whitespace", " \t\r\n[ 0 ,\n\"s\" , 1 ,\t\"x\" ]\r\n ", welcome("s", 1, "x")},
	{"prefix", `[1,"calc","http://example.com/simple/calc#"]`, prefix("calc", "http://example.com/simple/calc#")},
	{"prefix/name-chars", `[1,"my.app-v_1","http://x/"]`, prefix("my.app-v_1", "http://x/")},
	{"prefix/escaped-uri", `[1,"c","http:\/\/x\/\u0041#"]`, prefix("c", "http://x/A#")},
	{"prefix/escaped-name", `[1,"\u0063alc","u"]`, prefix("calc", "u")},
	{"call/no-args", `[2,"7DK6TdN4wLiUJgNM","http://example.com/api#howdy"]`, call(`"7DK6TdN4wLiUJgNM"`, "http://example.com/api#howdy")},
	{"call/one-number", `[2,"0.qd4lajti34a","calc:square",23]`, call(`"0.qd4lajti34a"`, "calc:square", "23")},
	{"call/two-numbers", `[2,"id","http://example.com/simple/calc#add",23,7]`, call(`"id"`, "http://example.com/simple/calc#add", "23", "7")},
	{"call/every-type", `[2,"id","u",0,-7.5e+3,1E-2,"s\n",true,false,null,{"a":[1,{}],"b":"c"},[],{}]`,
		call(`"id"`, "u", "0", "-7.5e+3", "1E-2", `"s\n"`, "true", "false", "null", `{"a":[1,{}],"b":"c"}`, "[]", "{}")},
	{"call/single-list-arg", `[2,"id","uri",[1,2]]`, call(`"id"`, "uri", "[1,2]")},
	{"call/null-arg", `[2,"id","uri",null]`, call(`"id"`, "uri", "null")},
	{"call/empty-strings", `[2,"","",""]`, call(`""`, "", `""`)},
	{"call/escaped-callid", `[2,"a\"b\u0041\\","uri"]`, call(`"a\"b\u0041\\"`, "uri")},
	{"call/escaped-uri", `[2,"id","http://x/\u00e9\ud83d\ude00\n\t\\\/\"\b\f\r"]`, call(`"id"`, "http://x/é😀\n\t\\/\"\b\f\r")},
	{"call/lone-surrogate", `[2,"id","a\ud800b\udc00c\ud800"]`, call(`"id"`, "a\uFFFDb\uFFFDc\uFFFD")},
	{"call/surrogate-then-non-low", `[2,"id","\ud83d\u0041"]`, call(`"id"`, "\uFFFDA")},
	{"call/raw-utf8", `[2,"id","héllo/日本/😀",["ü"]]`, call(`"id"`, "héllo/日本/😀", `["ü"]`)},
	{"call/raw-del", "[2,\"id\",\"a\x7fb\"]", call(`"id"`, "a\x7fb")},
	{"call/whitespace", " \t\n[ 2 , \"id\" ,\r\n \"uri\" , [ 1 , 2 ] , { \"a\" : 1 } , null ] \n",
		call(`"id"`, "uri", "[ 1 , 2 ]", `{ "a" : 1 }`, "null")},
	{"call/long-strings", `[2,"` + strings.Repeat("x", 100) + `","` + strings.Repeat("y", 99) + `\n"]`,
		call(`"`+strings.Repeat("x", 100)+`"`, strings.Repeat("y", 99)+"\n")},
	{"call/deep-arg", `[2,"id","u",` + nest(MaxDepth-1, "") + `]`, call(`"id"`, "u", nest(MaxDepth-1, ""))},
	{"call/number-callid", `[2,7,"u"]`, call("7", "u")},
	{"call/exponent-callid", `[2,1e2,"u",1]`, call("1e2", "u", "1")},
	{"call/negative-fraction-callid", `[2, -0.5e-3 ,"u"]`, call("-0.5e-3", "u")},
	{"call/big-callid", `[2,123456789012345678901234567890,"u"]`, call("123456789012345678901234567890", "u")},
	{"callresult", `[3,"id",{"a":1}]`, callResult(`"id"`, `{"a":1}`)},
	{"callresult/number-id", `[3,7,null]`, callResult("7", "null")},
	{"callerror/number-id", `[4,1E+2,"u","d"]`, callError("1E+2", "u", "d", nil)},
	{"callresult/null", `[3,"id",null]`, callResult(`"id"`, "null")},
	{"callresult/escaped-id", `[3,"\u0030.1",1]`, callResult(`"\u0030.1"`, "1")},
	{"callerror/4", `[4,"id","http://api.wamp.ws/error#internal","boom"]`, callError(`"id"`, ErrorURIInternal, "boom", nil)},
	{"callerror/5", `[4,"id","http://x#e","d",{"k":[1]}]`, callError(`"id"`, "http://x#e", "d", bs(`{"k":[1]}`))},
	{"callerror/5-null", `[4,"id","u","d",null]`, callError(`"id"`, "u", "d", bs("null"))},
	{"subscribe", `[5,"http://example.com/simple"]`, subscribe("http://example.com/simple")},
	{"subscribe/curie", `[5,"event:myevent1"]`, subscribe("event:myevent1")},
	{"subscribe/tags", `[5,"http://example.com/news?lang=FR&user=42"]`, subscribe("http://example.com/news?lang=FR&user=42")},
	{"subscribe/escaped", `[5,"\u65e5\u672c"]`, subscribe("日本")},
	{"unsubscribe", `[6,"http://example.com/simple"]`, unsubscribe("http://example.com/simple")},
	{"publish/3", `[7,"http://example.com/simple","Hello, world!"]`, publish("http://example.com/simple", `"Hello, world!"`, ExcludeDefault, nil, nil, false)},
	{"publish/null-event", `[7,"t",null]`, publish("t", "null", ExcludeDefault, nil, nil, false)},
	{"publish/exclude-me", `[7,"t",{"a":1},true]`, publish("t", `{"a":1}`, ExcludeMe, nil, nil, false)},
	{"publish/exclude-none", `[7,"t",[1,2],false]`, publish("t", "[1,2]", ExcludeNone, nil, nil, false)},
	{"publish/exclude-list", `[7,"t",1,["NwtXQ8rdfPsy-ewS","dYqgDl0FthI6_hjb"]]`, publish("t", "1", ExcludeList, []string{"NwtXQ8rdfPsy-ewS", "dYqgDl0FthI6_hjb"}, nil, false)},
	{"publish/exclude-empty", `[7,"t",1,[]]`, publish("t", "1", ExcludeList, nil, nil, false)},
	{"publish/eligible", `[7,"t",1,[],["a","b"]]`, publish("t", "1", ExcludeList, nil, []string{"a", "b"}, true)},
	{"publish/eligible-empty", `[7,"t",1,["x"],[]]`, publish("t", "1", ExcludeList, []string{"x"}, nil, true)},
	{"publish/escaped-ids", `[7,"t",1,[ "a\u0062" , "\n" ],["\"",""]]`, publish("t", "1", ExcludeList, []string{"ab", "\n"}, []string{`"`, ""}, true)},
	{"publish/whitespace", "[7 ,\"t\" , 1 , [ ] , [ \"a\" ] ]", publish("t", "1", ExcludeList, nil, []string{"a"}, true)},
	{"event", `[8,"http://example.com/simple","Hello, I am a simple event."]`, event("http://example.com/simple", `"Hello, I am a simple event."`)},
	{"event/object", `[8,"news?lang=FR",{"title":"x","n":[1,2.5,-3]}]`, event("news?lang=FR", `{"title":"x","n":[1,2.5,-3]}`)},
}

func TestDecode(t *testing.T) {
	var d Decoder
	var m Message
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			if err := d.Decode([]byte(tc.frame), &m); err != nil {
				t.Fatalf("Decode(%q) = %v", tc.frame, err)
			}
			if got, want := show(&m), show(&tc.want); got != want {
				t.Errorf("Decode(%q)\n got %s\nwant %s", tc.frame, got, want)
			}
		})
	}
}

// TestDecodeReuse checks that a reused Message holds only the last message.
func TestDecodeReuse(t *testing.T) {
	var d Decoder
	var m Message
	for _, f := range []string{`[2,"id","u",1,2,3]`, `[7,"t",1,["a"],["b"]]`, `[5,"x"]`} {
		if err := d.Decode([]byte(f), &m); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.Call.Args) != 0 || len(m.Publish.ExcludeIDs) != 0 || len(m.Publish.Eligible) != 0 || m.Publish.TopicURI != nil {
		t.Errorf("stale fields after SUBSCRIBE: %+v", m)
	}
	if err := d.Decode(bs(`[2,"id","u",7]`), &m); err != nil || len(m.Call.Args) != 1 || string(m.Call.Args[0]) != "7" {
		t.Errorf("CALL after reuse: %v %q", err, m.Call.Args)
	}
}

// TestDecodeBorrowed checks that borrowed slices are capacity-limited and
// that escaped strings of one frame do not overwrite each other.
func TestDecodeBorrowed(t *testing.T) {
	var d Decoder
	var m Message
	frame := bs(`[7,"t\u0031",1,["\u0061","b\n"],["\u0063"]]`)
	if err := d.Decode(frame, &m); err != nil {
		t.Fatal(err)
	}
	p := m.Publish
	if string(p.TopicURI) != "t1" || string(p.ExcludeIDs[0]) != "a" || string(p.ExcludeIDs[1]) != "b\n" || string(p.Eligible[0]) != "c" {
		t.Fatalf("got %s", show(&m))
	}
	_ = append(p.TopicURI, "XXXX"...)
	_ = append(p.Event, "XXXX"...)
	if string(p.ExcludeIDs[0]) != "a" || string(frame[:3]) != `[7,` || string(p.Event) != "1" {
		t.Errorf("append to a borrowed slice overwrote data: %s", show(&m))
	}
}

// malformedCases are bad frames with the sentinel they must wrap.
var malformedCases = []struct {
	name  string
	frame string
	want  error
}{
	{"empty", ``, ErrInvalidJSON},
	{"whitespace-only", " \n\t", ErrInvalidJSON},
	{"truncated", `[2,"id","uri"`, ErrInvalidJSON},
	{"truncated-after-comma", `[2,"id","uri",`, ErrInvalidJSON},
	{"truncated-string", `[5,"abc`, ErrInvalidJSON},
	{"truncated-escape", `[5,"abc\`, ErrInvalidJSON},
	{"truncated-nested", `[2,"id","uri",[1,{"a":`, ErrInvalidJSON},
	{"open-bracket", `[`, ErrInvalidJSON},
	{"trailing-garbage", `[5,"t"]x`, ErrInvalidJSON},
	{"trailing-bracket", `[5,"t"]]`, ErrInvalidJSON},
	{"two-messages", `[5,"t"][5,"u"]`, ErrInvalidJSON},
	{"trailing-comma", `[2,"id","uri",]`, ErrInvalidJSON},
	{"trailing-comma-nested", `[2,"id","uri",[1,]]`, ErrInvalidJSON},
	{"trailing-comma-object", `[2,"id","uri",{"a":1,}]`, ErrInvalidJSON},
	{"leading-comma", `[,5,"t"]`, ErrInvalidJSON},
	{"double-comma", `[2,,"id","uri"]`, ErrInvalidJSON},
	{"missing-comma", `[5 "t"]`, ErrInvalidJSON},
	{"mismatched-bracket", `[2,"id","uri",[1}]`, ErrInvalidJSON},
	{"object-unquoted-key", `[2,"id","uri",{a:1}]`, ErrInvalidJSON},
	{"object-no-colon", `[2,"id","uri",{"a" 1}]`, ErrInvalidJSON},
	{"object-number-key", `[2,"id","uri",{1:1}]`, ErrInvalidJSON},
	{"single-quotes", `[5,'t']`, ErrInvalidJSON},
	{"leading-zero", `[2,"id","uri",01]`, ErrInvalidJSON},
	{"leading-zero-type", `[05,"t"]`, ErrInvalidJSON},
	{"bare-fraction", `[2,"id","uri",.5]`, ErrInvalidJSON},
	{"empty-fraction", `[2,"id","uri",1.]`, ErrInvalidJSON},
	{"empty-exponent", `[2,"id","uri",1e]`, ErrInvalidJSON},
	{"plus-sign", `[2,"id","uri",+1]`, ErrInvalidJSON},
	{"lone-minus", `[2,"id","uri",-]`, ErrInvalidJSON},
	{"hex-number", `[2,"id","uri",0x10]`, ErrInvalidJSON},
	{"nan", `[2,"id","uri",NaN]`, ErrInvalidJSON},
	{"infinity", `[2,"id","uri",-Infinity]`, ErrInvalidJSON},
	{"bad-literal", `[2,"id","uri",tru]`, ErrInvalidJSON},
	{"capital-literal", `[2,"id","uri",True]`, ErrInvalidJSON},
	{"literal-suffix", `[2,"id","uri",nullx]`, ErrInvalidJSON},
	{"bad-escape", `[5,"a\x"]`, ErrInvalidJSON},
	{"short-u-escape", `[5,"\u12"]`, ErrInvalidJSON},
	{"bad-u-escape", `[5,"\u12G4"]`, ErrInvalidJSON},
	{"control-char", "[5,\"a\x01b\"]", ErrInvalidJSON},
	{"raw-tab-in-string", "[5,\"a\tb\"]", ErrInvalidJSON},
	{"raw-newline-in-string", "[5,\"a\nb\"]", ErrInvalidJSON},
	{"nul-in-string", "[5,\"a\x00b\"]", ErrInvalidJSON},
	{"bad-utf8", "[5,\"\xff\"]", ErrInvalidJSON},
	{"bad-utf8-after-8", "[5,\"abcdefghij\xfe\"]", ErrInvalidJSON},
	{"overlong-utf8", "[5,\"\xc0\xaf\"]", ErrInvalidJSON},
	{"utf8-surrogate", "[5,\"\xed\xa0\x80\"]", ErrInvalidJSON},
	{"truncated-utf8", "[5,\"\xe2\x82\"]", ErrInvalidJSON},
	{"utf8-outside-string", "[5,\"t\"]\xc3\xa9", ErrInvalidJSON},
	{"bom", "\xef\xbb\xbf[5,\"t\"]", ErrInvalidJSON},
	{"form-feed-whitespace", "[5,\f\"t\"]", ErrInvalidJSON},
	{"too-deep", `[2,"id","uri",` + nest(MaxDepth, "") + `]`, ErrInvalidJSON},
	{"too-deep-objects", `[2,"id","uri",` + strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth) + `]`, ErrInvalidJSON},
	{"too-deep-unclosed", strings.Repeat("[", 100000), ErrInvalidJSON},
	{"not-array-object", `{"a":1}`, ErrNotArray},
	{"not-array-string", `"x"`, ErrNotArray},
	{"not-array-number", ` 42 `, ErrNotArray},
	{"not-array-null", `null`, ErrNotArray},
	{"empty-array", `[]`, ErrNotArray},
	{"empty-array-whitespace", " [ \n ] ", ErrNotArray},
	{"type-string", `["2","id","uri"]`, ErrBadType},
	{"type-float", `[2.0,"id","uri"]`, ErrBadType},
	{"type-exponent", `[1e0,"a","b"]`, ErrBadType},
	{"type-negative", `[-1,"t"]`, ErrBadType},
	{"type-negative-zero", `[-0,"s",1,"x"]`, ErrBadType},
	{"type-9", `[9,"t"]`, ErrBadType},
	{"type-255", `[255,"t"]`, ErrBadType},
	{"type-256", `[256,"t"]`, ErrBadType},
	{"type-huge", `[99999999999999999999,"t"]`, ErrBadType},
	{"type-null", `[null]`, ErrBadType},
	{"type-list", `[[2],"id","uri"]`, ErrBadType},
	{"type-bool", `[true]`, ErrBadType},
	{"welcome-short", `[0,"s",1]`, ErrBadMessage},
	{"welcome-long", `[0,"s",1,"x",2]`, ErrBadMessage},
	{"welcome-string-version", `[0,"s","1","x"]`, ErrBadMessage},
	{"welcome-float-version", `[0,"s",1.0,"x"]`, ErrBadMessage},
	{"welcome-huge-version", `[0,"s",10000000000000000000000,"x"]`, ErrBadMessage},
	{"welcome-number-session", `[0,1,1,"x"]`, ErrBadMessage},
	{"welcome-null-ident", `[0,"s",1,null]`, ErrBadMessage},
	{"prefix-short", `[1,"a"]`, ErrBadMessage},
	{"prefix-long", `[1,"a","b","c"]`, ErrBadMessage},
	{"prefix-number", `[1,5,"x"]`, ErrBadMessage},
	{"prefix-uri-number", `[1,"a",5]`, ErrBadMessage},
	{"prefix-empty", `[1,"","x"]`, ErrBadPrefix},
	{"prefix-space", `[1,"a b","x"]`, ErrBadPrefix},
	{"prefix-colon", `[1,"a:b","x"]`, ErrBadPrefix},
	{"prefix-json", `[1,"{\"a\":1}","x"]`, ErrBadPrefix},
	{"prefix-query", `[1,"a=b&c","x"]`, ErrBadPrefix},
	{"prefix-unicode", `[1,"é","x"]`, ErrBadPrefix},
	{"call-only-type", `[2]`, ErrBadMessage},
	{"call-no-proc", `[2,"id"]`, ErrBadMessage},
	{"call-null-callid", `[2,null,"uri"]`, ErrBadMessage},
	{"call-true-callid", `[2,true,"uri"]`, ErrBadMessage},
	{"call-false-callid", `[2,false,"uri"]`, ErrBadMessage},
	{"call-list-callid", `[2,["id"],"uri"]`, ErrBadMessage},
	{"call-object-callid", `[2,{"id":1},"uri"]`, ErrBadMessage},
	{"call-bad-number-callid", `[2,07,"uri"]`, ErrInvalidJSON},
	{"call-number-proc", `[2,"id",5]`, ErrBadMessage},
	{"call-list-proc", `[2,"id",["uri"]]`, ErrBadMessage},
	{"callresult-short", `[3,"id"]`, ErrBadMessage},
	{"callresult-long", `[3,"id",1,2]`, ErrBadMessage},
	{"callresult-null-id", `[3,null,2]`, ErrBadMessage},
	{"callresult-list-id", `[3,[1],2]`, ErrBadMessage},
	{"callerror-short", `[4,"id","uri"]`, ErrBadMessage},
	{"callerror-long", `[4,"id","uri","d",1,2]`, ErrBadMessage},
	{"callerror-number-desc", `[4,"id","uri",5]`, ErrBadMessage},
	{"callerror-number-uri", `[4,"id",5,"d"]`, ErrBadMessage},
	{"callerror-bool-id", `[4,true,"u","d"]`, ErrBadMessage},
	{"callerror-object-id", `[4,{},"u","d"]`, ErrBadMessage},
	{"subscribe-number", `[5,42]`, ErrBadMessage},
	{"subscribe-null", `[5,null]`, ErrBadMessage},
	{"subscribe-short", `[5]`, ErrBadMessage},
	{"subscribe-long", `[5,"a","b"]`, ErrBadMessage},
	{"unsubscribe-short", `[6]`, ErrBadMessage},
	{"unsubscribe-object", `[6,{}]`, ErrBadMessage},
	{"publish-short", `[7,"t"]`, ErrBadMessage},
	{"publish-long", `[7,"t",1,[],[],[]]`, ErrBadMessage},
	{"publish-number-topic", `[7,5,1]`, ErrBadMessage},
	{"publish-null-exclude", `[7,"t",1,null]`, ErrBadMessage},
	{"publish-string-exclude", `[7,"t",1,"me"]`, ErrBadMessage},
	{"publish-number-in-exclude", `[7,"t",1,[1]]`, ErrBadMessage},
	{"publish-list-in-exclude", `[7,"t",1,["a",["b"]]]`, ErrBadMessage},
	{"publish-bool-with-eligible", `[7,"t",1,true,[]]`, ErrBadMessage},
	{"publish-false-with-eligible", `[7,"t",1,false,["a"]]`, ErrBadMessage},
	{"publish-string-eligible", `[7,"t",1,[],"x"]`, ErrBadMessage},
	{"publish-number-in-eligible", `[7,"t",1,[],["a",2]]`, ErrBadMessage},
	{"event-short", `[8,"t"]`, ErrBadMessage},
	{"event-long", `[8,"t",1,2]`, ErrBadMessage},
	{"event-number-topic", `[8,1,2]`, ErrBadMessage},
}

var sentinels = []error{ErrInvalidJSON, ErrNotArray, ErrBadType, ErrBadMessage, ErrBadPrefix, ErrTooManyPrefixes,
	ErrTooManyElements, ErrTooManyIDs, ErrURITooLong, ErrBadPlainRequest}

func TestDecodeMalformed(t *testing.T) {
	var d Decoder
	var m Message
	for _, tc := range malformedCases {
		t.Run(tc.name, func(t *testing.T) {
			err := d.Decode([]byte(tc.frame), &m)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode(%.60q) = %v, want %v", tc.frame, err, tc.want)
			}
			for _, s := range sentinels {
				if s != tc.want && errors.Is(err, s) {
					t.Errorf("error %v also wraps %v", err, s)
				}
			}
			wantCode := CloseProtocolError
			if tc.want == ErrInvalidJSON {
				wantCode = CloseInvalidPayload
			}
			if got := CloseCodeOf(err); got != wantCode {
				t.Errorf("CloseCodeOf(%v) = %d, want %d", err, got, wantCode)
			}
			if !strings.HasPrefix(err.Error(), "protocol: ") || len(Reason(err)) > MaxReason {
				t.Errorf("reason %q: want the protocol prefix and at most %d bytes", err, MaxReason)
			}
		})
	}
}

// TestDecodeReasons checks that reasons name the problem.
func TestDecodeReasons(t *testing.T) {
	tests := []struct{ frame, want string }{
		{`[2,"id",5]`, "protocol: CALL: procUri must be a string, not a number"},
		{`[2,null,"u"]`, "protocol: CALL: callId must be a string or a number, not null"},
		{`[3,[],1]`, "protocol: CALLRESULT: callId must be a string or a number, not a list"},
		{`[4,false,"u","d"]`, "protocol: CALLERROR: callId must be a string or a number, not a boolean"},
		{`[42,"t"]`, "protocol: unknown message type 42"},
		{`[99999999999999999999,"t"]`, "protocol: unknown message type 99999999999999999999"},
		{`[2.0]`, "protocol: message type must be an integer, not 2.0"},
		{`["2"]`, "protocol: message type must be an integer, not a string"},
		{`[5,42]`, "protocol: SUBSCRIBE: topicUri must be a string, not a number"},
		{`[5]`, "protocol: SUBSCRIBE: 1 elements, want 2"},
		{`[1,"a b","u"]`, `protocol: PREFIX: "a b" is not a name`},
		{`{}`, "protocol: message is an object, not an array"},
		{`[]`, "protocol: message is an empty array"},
		{`[5,"t",]`, `protocol: invalid JSON: expected value at offset 7 (']')`},
		{"[5,\"\xff\"]", "protocol: invalid JSON: invalid UTF-8 in string at offset 4 (byte 0xff)"},
		{`[5,"t"`, "protocol: invalid JSON: unterminated array at end of frame (offset 6)"},
	}
	var d Decoder
	var m Message
	for _, tc := range tests {
		if err := d.Decode([]byte(tc.frame), &m); err == nil || err.Error() != tc.want {
			t.Errorf("Decode(%q) = %v, want %s", tc.frame, err, tc.want)
		}
	}
}
