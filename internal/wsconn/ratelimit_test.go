package wsconn

import "testing"

func TestBucket(t *testing.T) {
	const sec = int64(1e9)
	r := rates{msgs: newBucketRate(RateLimit{PerSecond: 10, Burst: 20}), msgsOn: true}
	var l limiter
	l.start(&r, 0)
	for i := range 20 {
		if !take(&l.msgs, 1) {
			t.Fatalf("token %d refused from a full bucket of 20", i)
		}
	}
	if take(&l.msgs, 1) {
		t.Fatal("21st token granted")
	}
	l.start(&r, 0)
	take(&l.msgs, 20)
	l.refill(&r, sec/2) // half a second: 5 tokens
	if !take(&l.msgs, 5) || take(&l.msgs, 1) {
		t.Fatalf("after half a second: level %d nanotokens, want exactly 5 tokens", l.msgs+6e9)
	}
	l.refill(&r, 100*sec) // long idle: capped at burst
	if l.msgs != 20e9 {
		t.Fatalf("level after idling = %d, want the burst", l.msgs)
	}
	l.refill(&r, 50*sec) // a clock that goes back changes nothing
	if l.msgs != 20e9 || l.last != 100*sec {
		t.Fatalf("clock going back: level %d, last %d", l.msgs, l.last)
	}
	if l.bytes != 0 {
		t.Fatalf("a bucket that is off was refilled: %d", l.bytes)
	}
	huge := rates{bytes: newBucketRate(RateLimit{PerSecond: 1 << 40, Burst: 1 << 62}), bytesOn: true}
	l.start(&huge, 0)
	if huge.bytes.burst <= 0 || !take(&l.bytes, 1<<31) {
		t.Fatalf("huge burst overflowed: %d", huge.bytes.burst)
	}
}
