package router

import (
	"reflect"
	"strconv"
	"testing"
	"unsafe"

	"github.com/tagwamp/tagwamp/internal/wsconn"
)

// TestSessionSubs checks a session's subscription set on both sides of
// subsInline: found by topic, removed once, never lost when the index is
// built or entries move.
func TestSessionSubs(t *testing.T) {
	for _, n := range []int{1, subsInline, subsInline + 1, 3 * subsInline} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			s := &Session{}
			topic := func(i int) string { return "http://example.com/t?user=" + strconv.Itoa(i) }
			for i := range n {
				s.addSub(&subscription{sess: s, topic: topic(i)})
			}
			check := func(live map[int]bool) {
				t.Helper()
				if s.numSubs() != len(live) {
					t.Fatalf("%d subscriptions, want %d", s.numSubs(), len(live))
				}
				for i := range n + 1 {
					e := s.sub([]byte(topic(i)))
					if live[i] != (e != nil) || e != nil && e.topic != topic(i) {
						t.Fatalf("sub(%q) = %v, live %v", topic(i), e, live[i])
					}
				}
			}
			live := map[int]bool{}
			for i := range n {
				live[i] = true
			}
			check(live)
			// Remove every other one, the first and the last included.
			for i := 0; i < n; i += 2 {
				if e := s.removeSub([]byte(topic(i))); e == nil || e.topic != topic(i) {
					t.Fatalf("removeSub(%q) = %v", topic(i), e)
				}
				if e := s.removeSub([]byte(topic(i))); e != nil {
					t.Fatalf("removeSub(%q) twice = %v", topic(i), e)
				}
				delete(live, i)
				check(live)
			}
			if e := s.removeSub([]byte(topic(n))); e != nil {
				t.Fatalf("removeSub of an unknown topic = %v", e)
			}
			// Added again after removals.
			s.addSub(&subscription{sess: s, topic: topic(0)})
			live[0] = true
			check(live)
		})
	}
}

// TestIdleStructSizes holds the per-session structs at the sizes the idle
// figures were measured with (bench/RESULTS.md, "Idle sessions"): a field
// added carelessly moves a Session or a connection into the next size
// class (Go's: ..., 96, 112, 128, ..., 240, 256, ...) for every idle
// session.
func TestIdleStructSizes(t *testing.T) {
	tests := []struct {
		name      string
		size, max uintptr
	}{
		{"Session", unsafe.Sizeof(Session{}), 112},
		{"sessionRequest", unsafe.Sizeof(sessionRequest{}), 96},
		// 240 today, byte counters included, in the 240-byte class; up
		// to 256 stays within the next.
		{"wsconn.Conn", reflect.TypeFor[wsconn.Conn]().Size(), 256},
	}
	for _, tt := range tests {
		if tt.size > tt.max {
			t.Errorf("%s is %d bytes, want at most %d", tt.name, tt.size, tt.max)
		}
	}
}
