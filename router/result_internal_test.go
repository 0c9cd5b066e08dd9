package router

import (
	"encoding/json"
	"testing"
)

// TestArgsListTrust checks which lists ArgsList vouches for: only one made
// of the very values the router checked.
func TestArgsListTrust(t *testing.T) {
	frame := []byte(`[2,"id","p",1,{"a":"b"}]`)
	checked := [][]byte{frame[12:13], frame[14:23]}
	tests := []struct {
		name    string
		args    func() []json.RawMessage
		checked [][]byte
		trusted bool
		want    string
	}{
		{"as checked", func() []json.RawMessage { return []json.RawMessage{checked[0], checked[1]} }, checked, true, `[1,{"a":"b"}]`},
		{"none", func() []json.RawMessage { return nil }, nil, true, `[]`},
		{"equal bytes elsewhere", func() []json.RawMessage {
			return []json.RawMessage{json.RawMessage(`1`), checked[1]}
		}, checked, false, `[1,{"a":"b"}]`},
		{"a value cut short", func() []json.RawMessage { return []json.RawMessage{checked[0], checked[1][:4]} }, checked, false, `[1,{"a"]`},
		{"one more", func() []json.RawMessage {
			return []json.RawMessage{checked[0], checked[1], checked[0]}
		}, checked, false, `[1,{"a":"b"},1]`},
		{"a test's Call", func() []json.RawMessage { return []json.RawMessage{checked[0]} }, nil, false, `[1]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Call{Args: tc.args(), checked: tc.checked}
			res := c.ArgsList()
			var got []byte
			switch v := res.(type) {
			case *checkedList:
				if !tc.trusted {
					t.Fatalf("ArgsList vouched for %s", v.b)
				}
				got = v.b
			case json.RawMessage:
				if tc.trusted {
					t.Fatalf("ArgsList did not vouch for %s", v)
				}
				got = v
			default:
				t.Fatalf("ArgsList returned a %T", res)
			}
			if string(got) != tc.want {
				t.Fatalf("list %s, want %s", got, tc.want)
			}
			if tc.trusted {
				frame[12] = '2' // the list is a copy
				defer func() { frame[12] = '1' }()
				if string(got) != tc.want {
					t.Fatalf("list %s changed with the frame", got)
				}
			}
		})
	}
}

// TestMarshalResult checks that a checked list is written as it is,
// with no allocation, and that anything else is still checked.
func TestMarshalResult(t *testing.T) {
	var res any = &checkedList{b: []byte(`[1,2]`)}
	if n := testing.AllocsPerRun(100, func() { _, _ = marshalResult(res) }); n != 0 {
		t.Fatalf("marshaling a checked list costs %v allocations", n)
	}
	if _, err := marshalResult(json.RawMessage(`[1,`)); err == nil {
		t.Fatal("an invalid json.RawMessage result marshaled")
	}
	if b, err := json.Marshal(res); err != nil || string(b) != `[1,2]` {
		t.Fatalf("encoding/json marshals a checked list as %s, %v", b, err)
	}
}

// TestResultSlab checks that results carved from a worker's blocks never
// share or reuse memory, across many blocks, that a long list gets its
// own allocation, and that a call costs no allocation of its own.
func TestResultSlab(t *testing.T) {
	var s resultSlab
	frame := []byte(`[2,"id","p","abcdefghijklmnopqrstuvwxyz"]`)
	arg := frame[12 : len(frame)-1]
	c := &Call{Args: []json.RawMessage{arg}, checked: [][]byte{arg}, slab: &s}
	c0 := &Call{Args: []json.RawMessage{arg}, checked: [][]byte{arg}, slab: new(resultSlab)}
	c0.ArgsList()
	if b, l := cap(c0.slab.bytes)+30, cap(c0.slab.lists)+1; b > slabBytes/8 || l > slabLists/8 {
		t.Fatalf("a worker's first echo took blocks of %d bytes and %d results", b, l)
	}
	const n = 3 * slabBytes / 30
	kept := make([]*checkedList, 0, n)
	for range n {
		l, ok := c.ArgsList().(*checkedList)
		if !ok {
			t.Fatal("ArgsList did not vouch for the checked argument")
		}
		kept = append(kept, l)
	}
	for i, l := range kept {
		if string(l.b) != `["abcdefghijklmnopqrstuvwxyz"]` || cap(l.b) != len(l.b) {
			t.Fatalf("result %d is %q (cap %d) after more results were carved", i, l.b, cap(l.b))
		}
	}
	long := json.RawMessage(`"` + string(make([]byte, maxSlabList)) + `"`)
	for i := range long[1 : len(long)-1] {
		long[1+i] = 'x'
	}
	lc := &Call{Args: []json.RawMessage{long}, checked: [][]byte{long}, slab: &s}
	before := s.bytes
	if l := lc.ArgsList().(*checkedList); len(l.b) != len(long)+2 || len(s.bytes) != len(before) {
		t.Fatalf("a %d-byte list was carved from the block", len(l.b))
	}
	if a := testing.AllocsPerRun(1000, func() { _ = c.ArgsList() }); a > 0.05 {
		t.Fatalf("ArgsList costs %v allocations per call from a worker's blocks", a)
	}
}
