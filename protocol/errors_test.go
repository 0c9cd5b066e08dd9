package protocol

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCloseCodeOf(t *testing.T) {
	tests := []struct {
		err  error
		want CloseCode
	}{
		{nil, CloseNormal},
		{ErrInvalidJSON, CloseInvalidPayload},
		{ErrNotArray, CloseProtocolError},
		{ErrBadType, CloseProtocolError},
		{ErrBadMessage, CloseProtocolError},
		{ErrBadPrefix, CloseProtocolError},
		{ErrTooManyPrefixes, ClosePolicyViolation},
		{ErrTooManyElements, CloseMessageTooBig},
		{ErrTooManyIDs, CloseProtocolError},
		{ErrBadPlainRequest, CloseProtocolError},
		{ErrURITooLong, CloseProtocolError},
		{fmt.Errorf("session 42: %w", ErrInvalidJSON), CloseInvalidPayload},
		{errorf(ErrBadType, "x"), CloseProtocolError},
		{errors.New("other"), CloseInternalError},
		{NewError(ErrorURIInternal, "x"), CloseInternalError},
	}
	for _, tc := range tests {
		if got := CloseCodeOf(tc.err); got != tc.want {
			t.Errorf("CloseCodeOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestReason(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes, runes of 2
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("short"), "short"},
		{errors.New(strings.Repeat("a", 130)), strings.Repeat("a", MaxReason)},
		{errors.New("a" + long), "a" + strings.Repeat("é", 59)},
		{errors.New(long), strings.Repeat("é", 60)},
	}
	for _, tc := range tests {
		got := Reason(tc.err)
		if got != tc.want || len(got) > MaxReason || !utf8.ValidString(got) {
			t.Errorf("Reason(%.20v...) = %q (%d bytes), want %q", tc.err, got, len(got), tc.want)
		}
	}
}

func TestError(t *testing.T) {
	e := NewError(ErrorURIInvalidArgument, "x must be a number")
	if e.URI != ErrorURIInvalidArgument || e.Desc != "x must be a number" || e.Details != nil {
		t.Errorf("NewError = %+v", e)
	}
	if got, want := e.Error(), "protocol: call error http://api.wamp.ws/error#invalid-argument: x must be a number"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var target *Error
	if !errors.As(fmt.Errorf("handler: %w", e), &target) || target != e {
		t.Error("errors.As does not find the *Error")
	}

	tests := []struct {
		name    string
		details any
		want    string
	}{
		{"nil", nil, `[4,"id","u","d"]`},
		{"typed-nil", (*int)(nil), `[4,"id","u","d"]`},
		{"map", map[string]int{"n": 1}, `[4,"id","u","d",{"n":1}]`},
		{"list", []string{"a"}, `[4,"id","u","d",["a"]]`},
	}
	for _, tc := range tests {
		got, err := AppendError(nil, bs(`"id"`), &Error{URI: "u", Desc: "d", Details: tc.details})
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: AppendError = %s, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	if got, err := AppendError([]byte("x"), bs(`"id"`), &Error{URI: "u", Details: func() {}}); err == nil || string(got) != "x" {
		t.Errorf("AppendError with unmarshalable details = %q, %v; want an error", got, err)
	}
}

func TestMessageTypeString(t *testing.T) {
	names := []string{"WELCOME", "PREFIX", "CALL", "CALLRESULT", "CALLERROR", "SUBSCRIBE", "UNSUBSCRIBE", "PUBLISH", "EVENT"}
	for i, want := range names {
		if got := MessageType(i).String(); got != want {
			t.Errorf("MessageType(%d) = %q, want %q", i, got, want)
		}
	}
	if got := MessageType(9).String(); got != "MessageType(9)" {
		t.Errorf("MessageType(9) = %q", got)
	}
}
