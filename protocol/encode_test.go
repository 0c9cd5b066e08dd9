package protocol

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"plain", "http://example.com/simple", `"http://example.com/simple"`},
		{"quote-backslash", `a"b\c`, `"a\"b\\c"`},
		{"short-escapes", "\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"control", "\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"del-kept", "\x7f", "\"\x7f\""},
		{"slash-kept", "a/b", `"a/b"`},
		{"html-kept", "<a>&", `"<a>&"`},
		{"utf8-kept", "héllo 日本 😀", `"héllo 日本 😀"`},
		{"line-separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"invalid-utf8", "a\xffb", `"a\ufffdb"`},
		{"overlong-utf8", "\xc0\xaf", `"\ufffd\ufffd"`},
		{"utf8-surrogate", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"truncated-utf8", "ab\xe2\x82", `"ab\ufffd\ufffd"`},
		{"long-plain", strings.Repeat("abcdefgh", 4), `"` + strings.Repeat("abcdefgh", 4) + `"`},
		{"special-after-8", "abcdefgh\"ijklmnop\n", `"abcdefgh\"ijklmnop\n"`},
		{"special-at-7", "abcdefg\\hij", `"abcdefg\\hij"`},
		{"replacement-char-kept", "\uFFFD", "\"\uFFFD\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AppendString([]byte("x"), tc.in))
			if got != "x"+tc.want {
				t.Errorf("AppendString(%q) = %s, want %s", tc.in, got[1:], tc.want)
			}
		})
	}
}

// TestAppendStringProperty checks random strings against encoding/json: the
// output is valid JSON and decodes to the input with invalid bytes replaced.
func TestAppendStringProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		s := randString(r, true)
		out := AppendString(nil, s)
		if !json.Valid(out) {
			t.Fatalf("AppendString(%q) = %s: not valid JSON", s, out)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if want := validUTF8(s); got != want {
			t.Fatalf("AppendString(%q) = %s, decodes to %q, want %q", s, out, got, want)
		}
		if strings.ContainsAny(string(out), "\u2028\u2029") {
			t.Fatalf("AppendString(%q) = %s: raw line separator", s, out)
		}
	}
}

// validUTF8 replaces each invalid byte of s with U+FFFD, as AppendString does.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// randString returns a short random string drawn from characters that
// stress the encoder and the decoder; invalid UTF-8 only when bad.
func randString(r *rand.Rand, bad bool) string {
	pieces := []string{"a", "Z", "0", ":", "/", "#", "?", "=", "&", " ", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f",
		"é", "日本", "😀", "\u2028", "\u2029", "\uFFFD", "abcdefghijk", "http://example.com/"}
	if bad {
		pieces = append(pieces, "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82")
	}
	var b strings.Builder
	for n := r.IntN(12); n > 0; n-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func TestAppendMessages(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"welcome", AppendWelcome(nil, "v59mbCGDXZ7WTyxB", "tagwamp/0.1.0"), `[0,"v59mbCGDXZ7WTyxB",1,"tagwamp/0.1.0"]`},
		{"prefix", AppendPrefix(nil, "calc", "http://example.com/simple/calc#"), `[1,"calc","http://example.com/simple/calc#"]`},
		{"call/no-args", AppendCall(nil, "0.qd4lajti34a", "calc:square"), `[2,"0.qd4lajti34a","calc:square"]`},
		{"call/args", AppendCall(nil, `a"b`, "u", bs("23"), bs("[1,2]"), nil, bs(`{"a":null}`)), `[2,"a\"b","u",23,[1,2],null,{"a":null}]`},
		{"callresult", AppendCallResult(nil, bs(`"a\u0041"`), bs(`{"r":1}`)), `[3,"a\u0041",{"r":1}]`},
		{"callresult/nil", AppendCallResult(nil, bs(`"id"`), nil), `[3,"id",null]`},
		{"callresult/empty-id", AppendCallResult(nil, nil, bs("1")), `[3,"",1]`},
		{"callerror/nil-details", AppendCallError(nil, bs(`"id"`), ErrorURINoSuchProcedure, "no procedure registered for u", nil),
			`[4,"id","http://api.wamp.ws/error#NoSuchRPCEndpoint","no procedure registered for u"]`},
		{"callerror/empty-details", AppendCallError(nil, bs(`"id"`), "u", "d", []byte{}), `[4,"id","u","d"]`},
		{"callerror/null-details", AppendCallError(nil, bs(`"id"`), "u", "d", bs(" null ")), `[4,"id","u","d"]`},
		{"callerror/details", AppendCallError(nil, bs(`"id"`), "u", "d\n", bs(`[1,"x"]`)), `[4,"id","u","d\n",[1,"x"]]`},
		{"callerror/false-details", AppendCallError(nil, bs(`"id"`), "u", "", bs(`false`)), `[4,"id","u","",false]`},
		{"subscribe", AppendSubscribe(nil, "news?lang=FR"), `[5,"news?lang=FR"]`},
		{"unsubscribe", AppendUnsubscribe(nil, "news"), `[6,"news"]`},
		{"publish/default", AppendPublish(nil, "t", bs(`"hi"`), PublishOptions{}), `[7,"t","hi"]`},
		{"publish/nil-event", AppendPublish(nil, "t", nil, PublishOptions{}), `[7,"t",null]`},
		{"publish/me", AppendPublish(nil, "t", bs("1"), PublishOptions{Exclude: ExcludeMe}), `[7,"t",1,true]`},
		{"publish/none", AppendPublish(nil, "t", bs("1"), PublishOptions{Exclude: ExcludeNone}), `[7,"t",1,false]`},
		{"publish/list", AppendPublish(nil, "t", bs("1"), PublishOptions{Exclude: ExcludeList, ExcludeIDs: []string{"a", `b"`}}), `[7,"t",1,["a","b\""]]`},
		{"publish/empty-list", AppendPublish(nil, "t", bs("1"), PublishOptions{Exclude: ExcludeList}), `[7,"t",1,[]]`},
		{"publish/ids-ignored", AppendPublish(nil, "t", bs("1"), PublishOptions{ExcludeIDs: []string{"a"}}), `[7,"t",1]`},
		{"publish/eligible", AppendPublish(nil, "t", bs("1"), PublishOptions{Exclude: ExcludeList, ExcludeIDs: []string{"a"}, Eligible: []string{"b", "c"}, HasEligible: true}), `[7,"t",1,["a"],["b","c"]]`},
		{"publish/eligible-empty", AppendPublish(nil, "t", bs("1"), PublishOptions{HasEligible: true}), `[7,"t",1,[],[]]`},
		{"publish/eligible-me", AppendPublish(nil, "t", bs("1"), PublishOptions{Exclude: ExcludeMe, Eligible: []string{"b"}, HasEligible: true}), `[7,"t",1,[],["b"]]`},
		{"event", AppendEvent(nil, "http://example.com/simple", bs(`"Hello"`)), `[8,"http://example.com/simple","Hello"]`},
		{"event/nil", AppendEvent(nil, "t", nil), `[8,"t",null]`},
		{"event/escaped-topic", AppendEvent([]byte("kept"), "a\"\u2028", bs("{}")), `kept[8,"a\"\u2028",{}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.got) != tc.want {
				t.Errorf("got  %s\nwant %s", tc.got, tc.want)
			}
			if out := strings.TrimPrefix(string(tc.got), "kept"); !json.Valid([]byte(out)) || !utf8.ValidString(out) {
				t.Errorf("%s: not valid JSON", out)
			}
		})
	}
}

// TestCallIDEcho checks that a callId, a string or a number, is echoed
// byte for byte by AppendCallResult, AppendCallError and AppendError, from
// the raw frame to the answer (docs/protocol.md#call-ids).
func TestCallIDEcho(t *testing.T) {
	tests := []struct{ name, frame, id string }{
		{"string", `[2,"0.qd4lajti34a","u"]`, `"0.qd4lajti34a"`},
		{"escaped-string", `[2,"a\u0041\/\"","u"]`, `"a\u0041\/\""`},
		{"empty-string", `[2,"","u"]`, `""`},
		{"integer", `[2,7,"u"]`, `7`},
		{"zero", `[2,0,"u"]`, `0`},
		{"negative-zero", `[2,-0,"u"]`, `-0`},
		{"exponent", `[2,1e2,"u"]`, `1e2`},
		{"capital-exponent", `[2,1E+2,"u"]`, `1E+2`},
		{"negative-fraction-exponent", `[2,-0.5e-3,"u"]`, `-0.5e-3`},
		{"trailing-zeros", `[2,7.000,"u"]`, `7.000`},
		{"huge", `[2,123456789012345678901234567890e300,"u"]`, `123456789012345678901234567890e300`},
		{"whitespace", "[2, \t7\n ,\"u\"]", `7`},
	}
	var d Decoder
	var m Message
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := d.Decode([]byte(tc.frame), &m); err != nil {
				t.Fatalf("Decode(%s) = %v", tc.frame, err)
			}
			id := m.Call.CallID
			if string(id) != tc.id {
				t.Fatalf("CallID = %s, want %s", id, tc.id)
			}
			check := func(what string, got []byte, want string) {
				t.Helper()
				if string(got) != want {
					t.Errorf("%s = %s, want %s", what, got, want)
				}
				if !json.Valid(got) {
					t.Errorf("%s = %s: not valid JSON", what, got)
				}
			}
			check("AppendCallResult", AppendCallResult(nil, id, bs("1")), "[3,"+tc.id+",1]")
			check("AppendCallError", AppendCallError(nil, id, "u", "d", nil), "[4,"+tc.id+`,"u","d"]`)
			e, err := AppendError(nil, id, &Error{URI: "u", Desc: "d", Details: []int{1}})
			if err != nil {
				t.Fatal(err)
			}
			check("AppendError", e, "[4,"+tc.id+`,"u","d",[1]]`)
			// The client side decodes the answers with the token intact.
			var a Message
			var d2 Decoder
			if err := d2.Decode(e, &a); err != nil || string(a.CallError.CallID) != tc.id {
				t.Errorf("Decode(%s) = %v, CallID %s", e, err, a.CallError.CallID)
			}
		})
	}
}
