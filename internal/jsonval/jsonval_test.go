package jsonval

import (
	"encoding/json"
	"testing"
)

func TestMarshal(t *testing.T) {
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
		{"raw", raw, `{"a":1}`, false},
		{"raw pointer", &raw, `{"a":1}`, false},
		{"nil raw", nilRaw, "null", false},
		{"invalid raw", json.RawMessage(`{`), "", true},
		{"unmarshalable", make(chan int), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.in)
			if (err != nil) != tc.wantErr || string(got) != tc.want {
				t.Fatalf("Marshal = %s, %v", got, err)
			}
		})
	}
}
