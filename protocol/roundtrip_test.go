package protocol

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
)

// randJSON returns a random compact JSON value, nested at most depth deep.
func randJSON(r *rand.Rand, depth int) []byte {
	n := 7
	if depth <= 0 {
		n = 5
	}
	switch r.IntN(n) {
	case 0:
		return []byte("null")
	case 1:
		return []byte(strconv.FormatBool(r.IntN(2) == 0))
	case 2:
		nums := []string{"0", "-1", "42", "3.25", "-0.5e-7", "1E+300", "123456789012345678901234567890"}
		return []byte(nums[r.IntN(len(nums))])
	case 3, 4:
		return AppendString(nil, randString(r, false))
	case 5:
		b := []byte{'['}
		for i := range r.IntN(4) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, randJSON(r, depth-1)...)
		}
		return append(b, ']')
	default:
		b := []byte{'{'}
		for i := range r.IntN(4) {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, randString(r, false))
			b = append(b, ':')
			b = append(b, randJSON(r, depth-1)...)
		}
		return append(b, '}')
	}
}

// randIDs returns a few random session ids.
func randIDs(r *rand.Rand) []string {
	var ids []string
	for range r.IntN(4) {
		ids = append(ids, randString(r, false))
	}
	return ids
}

// randMessage returns a random message encoded with the Append functions
// and the Message it must decode to.
func randMessage(r *rand.Rand) ([]byte, Message) {
	s1, s2, s3 := randString(r, false), randString(r, false), randString(r, false)
	switch MessageType(r.IntN(int(maxType) + 1)) {
	case TypeWelcome:
		return AppendWelcome(nil, s1, s2), welcome(s1, 1, s2)
	case TypePrefix:
		name := []string{"calc", "a.b-c_d", "X"}[r.IntN(3)]
		return AppendPrefix(nil, name, s1), prefix(name, s1)
	case TypeCall:
		var args [][]byte
		var want []string
		for range r.IntN(5) {
			a := randJSON(r, 3)
			args = append(args, a)
			want = append(want, string(a))
		}
		return AppendCall(nil, s1, s2, args...), call(string(AppendString(nil, s1)), s2, want...)
	case TypeCallResult:
		id, res := AppendString(nil, s1), randJSON(r, 3)
		return AppendCallResult(nil, id, res), callResult(string(id), string(res))
	case TypeCallError:
		id := AppendString(nil, s1)
		var details []byte
		if r.IntN(2) == 0 {
			details = randJSON(r, 3)
		}
		want := callError(string(id), s2, s3, details)
		if isNull(details) {
			want.CallError.ErrorDetails = nil
		}
		return AppendCallError(nil, id, s2, s3, details), want
	case TypeSubscribe:
		return AppendSubscribe(nil, s1), subscribe(s1)
	case TypeUnsubscribe:
		return AppendUnsubscribe(nil, s1), unsubscribe(s1)
	case TypePublish:
		ev := randJSON(r, 3)
		o := PublishOptions{Exclude: ExcludeMode(r.IntN(4)), ExcludeIDs: randIDs(r), HasEligible: r.IntN(3) == 0}
		if o.HasEligible {
			o.Eligible = randIDs(r)
		}
		want := publish(s1, string(ev), o.Exclude, nil, o.Eligible, o.HasEligible)
		if o.Exclude == ExcludeList {
			want = publish(s1, string(ev), ExcludeList, o.ExcludeIDs, o.Eligible, o.HasEligible)
		} else if o.HasEligible {
			want.Publish.Exclude = ExcludeList // the 5-element form has a list, empty here
		}
		return AppendPublish(nil, s1, ev, o), want
	default:
		ev := randJSON(r, 3)
		return AppendEvent(nil, s1, ev), event(s1, string(ev))
	}
}

// TestRoundTrip is the property Decode(AppendX(m)) == m over random
// messages, with strings that need every kind of escape.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	var d Decoder
	var m Message
	for i := range 20000 {
		frame, want := randMessage(r)
		if !json.Valid(frame) {
			t.Fatalf("#%d: encoded %s is not valid JSON", i, frame)
		}
		if err := d.Decode(frame, &m); err != nil {
			t.Fatalf("#%d: Decode(%s) = %v", i, frame, err)
		}
		if got, want := show(&m), show(&want); got != want {
			t.Fatalf("#%d: Decode(%s)\n got %s\nwant %s", i, frame, got, want)
		}
	}
}

// TestReencode checks that every well-formed case of decodeCases decodes
// to the same message after a trip through the encoders.
func TestReencode(t *testing.T) {
	var d1, d2 Decoder
	var m1, m2 Message
	for _, tc := range decodeCases {
		if err := d1.Decode([]byte(tc.frame), &m1); err != nil {
			t.Fatal(err)
		}
		out := appendMessage(nil, &m1)
		if err := d2.Decode(out, &m2); err != nil {
			t.Fatalf("%s: re-encoded %s: %v", tc.name, out, err)
		}
		if a, b := normalize(&m1), normalize(&m2); a != b {
			t.Errorf("%s: re-encoded as %s\n got %s\nwant %s", tc.name, out, b, a)
		}
	}
}
