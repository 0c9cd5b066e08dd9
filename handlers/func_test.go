package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

func rawArgs(args ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		out[i] = json.RawMessage(a)
	}
	return out
}

type point struct {
	X int    `json:"x"`
	Y int    `json:"y"`
	N string `json:"name"`
}

// echoOf returns a handler answering its decoded argument.
func echoOf[A any]() router.RPCHandler {
	return Func(func(_ context.Context, _ *router.Session, a A) (A, error) { return a, nil })
}

func TestFunc(t *testing.T) {
	tests := []struct {
		name    string
		h       router.RPCHandler
		args    []json.RawMessage
		want    any
		wantErr string // substring of the invalid-argument description
	}{
		{"ints all args", echoOf[[]int](), rawArgs("1", "2", "3"), []int{1, 2, 3}, ""},
		{"ints no args", echoOf[[]int](), nil, []int{}, ""},
		{"ints list arg is one arg", echoOf[[]int](), rawArgs("[1,2]"), nil, "arguments"},
		{"nested list", echoOf[[][]int](), rawArgs("[1,2]"), [][]int{{1, 2}}, ""},
		{"any slice", echoOf[[]any](), rawArgs(`"a"`, "null", "{}"), []any{"a", nil, map[string]any{}}, ""},
		{"array", echoOf[[2]string](), rawArgs(`"a"`, `"b"`), [2]string{"a", "b"}, ""},
		{"ints wrong type", echoOf[[]int](), rawArgs("1", `"x"`), nil, "arguments"},
		{"struct", echoOf[point](), rawArgs(`{"x":1,"y":2,"name":"p","extra":true}`), point{1, 2, "p"}, ""},
		{"struct wrong type", echoOf[point](), rawArgs(`{"x":"one"}`), nil, "argument"},
		{"struct from list", echoOf[point](), rawArgs(`[1,2]`), nil, "argument"},
		{"struct no args", echoOf[point](), nil, nil, "want 1 argument, got 0"},
		{"struct two args", echoOf[point](), rawArgs("{}", "{}"), nil, "want 1 argument, got 2"},
		{"string", echoOf[string](), rawArgs(`"hi"`), "hi", ""},
		{"int from float", echoOf[int](), rawArgs(`1.5`), nil, "argument"},
		{"map", echoOf[map[string]int](), rawArgs(`{"a":1}`), map[string]int{"a": 1}, ""},
		{"raw", echoOf[json.RawMessage](), rawArgs(`[1, 2]`), json.RawMessage(`[1, 2]`), ""},
		{"any", echoOf[any](), rawArgs(`null`), nil, ""},
		{"pointer", echoOf[*point](), rawArgs(`{"x":7}`), &point{X: 7}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.h.ServeCall(context.Background(), nil, &router.Call{URI: "u", Args: tt.args})
			if tt.wantErr != "" {
				var pe *protocol.Error
				if !errors.As(err, &pe) || pe.URI != protocol.ErrorURIInvalidArgument || !strings.Contains(pe.Desc, tt.wantErr) {
					t.Fatalf("err = %v, want invalid-argument containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestFuncOwnsArgs(t *testing.T) {
	var kept json.RawMessage
	h := Func(func(_ context.Context, _ *router.Session, a json.RawMessage) (any, error) {
		kept = a
		return nil, nil
	})
	frame := []byte(`"abc"`)
	if _, err := h.ServeCall(context.Background(), nil, &router.Call{Args: []json.RawMessage{frame}}); err != nil {
		t.Fatal(err)
	}
	copy(frame, `"xyz"`)
	if string(kept) != `"abc"` {
		t.Fatalf("kept = %s: Func aliased the frame", kept)
	}
}

func TestFuncError(t *testing.T) {
	want := protocol.NewError("urn:err#mine", "nope")
	h := Func(func(context.Context, *router.Session, []int) (int, error) { return 0, want })
	if _, err := h.ServeCall(context.Background(), nil, &router.Call{}); err != want {
		t.Fatalf("err = %v, want the handler's own", err)
	}
}
