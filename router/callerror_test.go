package router_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/router"
)

func TestCallError(t *testing.T) {
	mine := &protocol.Error{URI: "urn:e#mine", Desc: "d", Details: []int{1}}
	tests := []struct {
		name string
		err  error
		want *protocol.Error
	}{
		{"nil", nil, nil},
		{"protocol error", mine, mine},
		{"wrapped protocol error", fmt.Errorf("x: %w", mine), mine},
		{"no such procedure", fmt.Errorf("mux: %w", router.ErrNoSuchProcedure),
			&protocol.Error{URI: protocol.ErrorURINoSuchProcedure, Desc: "no procedure registered for urn:p"}},
		{"timeout", fmt.Errorf("db: %w", context.DeadlineExceeded),
			&protocol.Error{URI: protocol.ErrorURITimeout, Desc: "call timed out"}},
		{"canceled", context.Canceled, &protocol.Error{URI: protocol.ErrorURIInternal, Desc: "internal error"}},
		{"anything else", errors.New("db down: password=hunter2"),
			&protocol.Error{URI: protocol.ErrorURIInternal, Desc: "internal error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := router.CallError("urn:p", tt.err)
			if tt.want == nil || tt.want == mine {
				if got != tt.want {
					t.Fatalf("CallError = %v, want %v itself", got, tt.want)
				}
				return
			}
			if got == nil || got.URI != tt.want.URI || got.Desc != tt.want.Desc || got.Details != nil {
				t.Fatalf("CallError = %+v, want %+v", got, tt.want)
			}
		})
	}
}
