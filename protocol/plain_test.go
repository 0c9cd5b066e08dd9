package protocol

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// plainCases are plain requests and what DecodePlain makes of them: the
// raw fields, or the sentinel and a piece of the reason. The close codes and
// reasons are those a router has always sent (docs/protocol.md#plain-requests).
var plainCases = []struct {
	name                    string
	frame                   string
	message, tags, metadata string // raw fields; "" for nil
	err                     error
	reason                  string
}{
	{"message", `{"message":"hello"}`, `"hello"`, "", "", nil, ""},
	{"all", `{"message":{"text":"Bonjour", "n":[1, 2]},"tags":{"language":"FR"},"metadata":{"key":"k","secret":"s"}}`,
		`{"text":"Bonjour", "n":[1, 2]}`, `{"language":"FR"}`, `{"key":"k","secret":"s"}`, nil, ""},
	{"any-order", ` {"metadata":{} , "tags" : { } ,"message":[1]} `, `[1]`, `{ }`, `{}`, nil, ""},
	{"null-message", `{"message":null}`, `null`, "", "", nil, ""},
	{"escaped-key", `{"m\u0065ssage":1,"\u0074ags":{"a":"b"}}`, `1`, `{"a":"b"}`, "", nil, ""},
	{"tag-values-unchecked", `{"message":1,"tags":{"a":true}}`, `1`, `{"a":true}`, "", nil, ""},
	{"invalid-json", `{"message":`, "", "", "", ErrInvalidJSON, "invalid JSON"},
	{"empty", ``, "", "", "", ErrInvalidJSON, "invalid JSON"},
	{"trailing-data", `{"message":1} x`, "", "", "", ErrInvalidJSON, "invalid JSON"},
	{"trailing-comma", `{"message":1,}`, "", "", "", ErrInvalidJSON, "invalid JSON"},
	{"invalid-utf8", "{\"message\":\"\xff\"}", "", "", "", ErrInvalidJSON, "invalid UTF-8"},
	{"invalid-utf8-after-syntax-error", "{\"message\":x\"\xff\"}", "", "", "", ErrInvalidJSON, "invalid UTF-8"},
	{"invalid-utf8-outside-string", "{\"message\":1}\xff", "", "", "", ErrInvalidJSON, "invalid UTF-8"},
	{"too-deep", `{"message":` + nest(MaxDepth, "") + `}`, "", "", "", ErrInvalidJSON, "nested deeper"},
	{"bad-json-after-unknown-key", `{"topic":1,"message":`, "", "", "", ErrInvalidJSON, "invalid JSON"},
	{"array", `["message"]`, "", "", "", ErrBadPlainRequest, "not a JSON object"},
	{"string", `"hello"`, "", "", "", ErrBadPlainRequest, "not a JSON object"},
	{"empty-object", `{}`, "", "", "", ErrBadPlainRequest, `no "message"`},
	{"no-message", `{"tags":{"a":"b"}}`, "", "", "", ErrBadPlainRequest, `no "message"`},
	{"unknown-key", `{"message":1,"topic":"x"}`, "", "", "", ErrBadPlainRequest, `unknown key "topic"`},
	{"unknown-key-first", `{"tags":null,"topic":1}`, "", "", "", ErrBadPlainRequest, `unknown key "topic"`},
	{"unknown-escaped-key", `{"message":1,"\u0074opic":"x"}`, "", "", "", ErrBadPlainRequest, `unknown key "topic"`},
	{"duplicate-message", `{"message":1,"message":2}`, "", "", "", ErrBadPlainRequest, `duplicate key "message"`},
	{"duplicate-tags", `{"tags":{},"message":1,"tags":{}}`, "", "", "", ErrBadPlainRequest, `duplicate key "tags"`},
	{"duplicate-escaped", `{"message":1,"m\u0065ssage":2}`, "", "", "", ErrBadPlainRequest, `duplicate key "message"`},
	{"tags-list", `{"message":1,"tags":["a"]}`, "", "", "", ErrBadPlainRequest, "tags must be an object"},
	{"tags-null", `{"message":1,"tags":null}`, "", "", "", ErrBadPlainRequest, "tags must be an object of strings or integers, not null"},
	{"metadata-string", `{"message":1,"metadata":"k"}`, "", "", "", ErrBadPlainRequest, "metadata must be an object, not a string"},
	{"too-many-values", `{"message":[` + strings.Repeat("1,", DefaultMaxElements) + `1]}`, "", "", "", ErrTooManyElements, "more than 4096 JSON values"},
}

func TestDecodePlain(t *testing.T) {
	var d Decoder
	for _, tc := range plainCases {
		t.Run(tc.name, func(t *testing.T) {
			r := PlainRequest{Message: bs("stale"), Tags: bs("stale")}
			err := d.DecodePlain([]byte(tc.frame), &r)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("DecodePlain = %v", err)
				}
				if string(r.Message) != tc.message || string(r.Tags) != tc.tags || string(r.Metadata) != tc.metadata {
					t.Fatalf("DecodePlain = %q %q %q, want %q %q %q", r.Message, r.Tags, r.Metadata, tc.message, tc.tags, tc.metadata)
				}
				if (tc.tags == "") != (r.Tags == nil) || (tc.metadata == "") != (r.Metadata == nil) {
					t.Fatalf("absent fields not nil: %q %q", r.Tags, r.Metadata)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("DecodePlain = %v, want %v with %q", err, tc.err, tc.reason)
			}
			for _, s := range sentinels {
				if s != tc.err && errors.Is(err, s) {
					t.Errorf("error %v also wraps %v", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "protocol: plain request") || len(Reason(err)) > MaxReason {
				t.Errorf("reason %q", err)
			}
			if r.Message != nil || r.Tags != nil || r.Metadata != nil {
				t.Errorf("fields set after an error: %q %q %q", r.Message, r.Tags, r.Metadata)
			}
		})
	}
	codes := map[error]CloseCode{ErrInvalidJSON: 1007, ErrBadPlainRequest: 1002, ErrTooManyElements: 1009}
	for sentinel, code := range codes {
		if got := CloseCodeOf(sentinel); got != code {
			t.Errorf("CloseCodeOf(%v) = %d, want %d", sentinel, got, code)
		}
	}
}

// TestDecodePlainBorrowed checks that the fields alias the frame and are
// capacity-limited.
func TestDecodePlainBorrowed(t *testing.T) {
	var d Decoder
	var r PlainRequest
	frame := bs(`{"message":"m","tags":{"a":"1"}}`)
	if err := d.DecodePlain(frame, &r); err != nil {
		t.Fatal(err)
	}
	if !subslice(frame, r.Message) || !subslice(frame, r.Tags) {
		t.Error("fields are not subslices of the frame")
	}
	_ = append(r.Message, "XXXX"...)
	if string(frame) != `{"message":"m","tags":{"a":"1"}}` {
		t.Errorf("append to a field wrote into the frame: %s", frame)
	}
}

// FuzzDecodePlain checks DecodePlain against a model built on
// encoding/json: it never panics; it fails with ErrInvalidJSON exactly for
// frames that are not valid JSON, not UTF-8 or too deep; it accepts exactly
// the valid frames that are requests (one object, message present, no other
// key, no key twice, tags and metadata objects); and then its fields are the
// model's raw values, byte for byte, subslices of the frame. Seeds:
// testdata/fuzz/FuzzDecodePlain and plainCases.
func FuzzDecodePlain(f *testing.F) {
	for _, tc := range plainCases {
		f.Add([]byte(tc.frame))
	}
	var d Decoder
	var r PlainRequest
	f.Fuzz(func(t *testing.T, frame []byte) {
		err := d.DecodePlain(frame, &r)
		if err != nil && (!strings.HasPrefix(err.Error(), "protocol: plain request") || CloseCodeOf(err) == CloseInternalError) {
			t.Fatalf("DecodePlain(%q) = %v: not a plain request error", frame, err)
		}
		if errors.Is(err, ErrTooManyElements) {
			if len(frame) <= DefaultMaxElements {
				t.Fatalf("DecodePlain(%q) = %v: too short for that", frame, err)
			}
			return
		}
		valid := stdjson.Valid(frame) && utf8.Valid(frame) && jsonDepth(frame) <= MaxDepth
		if gotValid := !errors.Is(err, ErrInvalidJSON); gotValid != valid {
			t.Fatalf("DecodePlain(%q) = %v; want valid JSON = %v", frame, err, valid)
		}
		if !valid {
			return
		}
		want, ok := plainModel(frame)
		if (err == nil) != ok {
			t.Fatalf("DecodePlain(%q) = %v; the model says request = %v", frame, err, ok)
		}
		if err != nil {
			if !errors.Is(err, ErrBadPlainRequest) {
				t.Fatalf("DecodePlain(%q) = %v, want ErrBadPlainRequest", frame, err)
			}
			return
		}
		if !bytes.Equal(r.Message, want.Message) || !bytes.Equal(r.Tags, want.Tags) || !bytes.Equal(r.Metadata, want.Metadata) ||
			(r.Tags == nil) != (want.Tags == nil) || (r.Metadata == nil) != (want.Metadata == nil) {
			t.Fatalf("DecodePlain(%q) = %q %q %q, want %q %q %q", frame, r.Message, r.Tags, r.Metadata, want.Message, want.Tags, want.Metadata)
		}
		for _, v := range [][]byte{r.Message, r.Tags, r.Metadata} {
			if v != nil && !subslice(frame, v) {
				t.Fatalf("field %q is not a subslice of the frame", v)
			}
		}
	})
}

// plainModel decodes a valid JSON frame as a plain request with
// encoding/json's token API, and reports whether it is one.
func plainModel(frame []byte) (PlainRequest, bool) {
	var r PlainRequest
	dec := stdjson.NewDecoder(bytes.NewReader(frame))
	if tok, err := dec.Token(); err != nil || tok != stdjson.Delim('{') {
		return r, false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return r, false
		}
		key, _ := tok.(string)
		var v stdjson.RawMessage
		if err := dec.Decode(&v); err != nil || seen[key] {
			return r, false
		}
		seen[key] = true
		switch key {
		case "message":
			r.Message = v
		case "tags":
			r.Tags = v
		case "metadata":
			r.Metadata = v
		default:
			return r, false
		}
		if key != "message" && v[0] != '{' {
			return r, false
		}
	}
	return r, seen["message"]
}
