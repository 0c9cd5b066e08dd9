package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMarshalPayload(t *testing.T) {
	raw := json.RawMessage(`{"a":1}`)
	var nilRaw json.RawMessage
	tests := []struct {
		name    string
		in      any
		want    string
		wantErr bool
	}{
		{"nil", nil, "null", false},
		{"map", map[string]int{"n": 1}, `{"n":1}`, false},
		{"string", "a\"b", `"a\"b"`, false},
		{"raw", raw, `{"a":1}`, false},
		{"raw pointer", &raw, `{"a":1}`, false},
		{"nil raw", nilRaw, "null", false},
		{"nil raw pointer", (*json.RawMessage)(nil), "null", false},
		{"invalid raw", json.RawMessage(`{`), "", true},
		{"raw with trailing data", json.RawMessage(`1 2`), "", true},
		{"raw too deep", json.RawMessage(nest(MaxDepth, "")), "", true},
		{"unmarshalable", make(chan int), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalPayload(tc.in)
			if (err != nil) != tc.wantErr || string(got) != tc.want {
				t.Fatalf("MarshalPayload = %s, %v", got, err)
			}
		})
	}
	if got, _ := MarshalPayload(raw); &got[0] != &raw[0] {
		t.Error("a json.RawMessage was copied")
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`1`, true},
		{` {"a":[1,"x",null]} `, true},
		{`"é"`, true},
		{nest(MaxDepth-1, ""), true},
		{nest(MaxDepth, ""), false},
		{``, false},
		{` `, false},
		{`1 2`, false},
		{`{"a":1,}`, false},
		{"\"\xff\"", false},
		{`01`, false},
	}
	for _, tc := range tests {
		if got := Valid([]byte(tc.in)); got != tc.want {
			t.Errorf("Valid(%.30q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// Valid applies no Limits.
	if !Valid([]byte("[" + strings.Repeat("1,", 2*DefaultMaxElements) + "1]")) {
		t.Error("Valid applied the element limit")
	}
}

func TestUnmarshal(t *testing.T) {
	var v struct {
		A []int           `json:"a"`
		R json.RawMessage `json:"r"`
	}
	if err := Unmarshal([]byte(`{"a":[1,2],"r":{"x" : 1}}`), &v); err != nil || len(v.A) != 2 || string(v.R) != `{"x" : 1}` {
		t.Errorf("Unmarshal = %v, %+v", err, v)
	}
	if err := Unmarshal([]byte(`{`), &v); err == nil {
		t.Error("Unmarshal of invalid JSON succeeded")
	}
}
