package wsconn

// bucketRate is the configuration of a token bucket counted in nanotokens
// (one token is 1e9), so that refilling is integer arithmetic: rate tokens
// per second add rate nanotokens per elapsed nanosecond. A bucket's state is
// just its level (an int64, in the connection's limiter); its rate and burst
// are the transport's.
type bucketRate struct {
	rate  int64 // tokens per second
	burst int64 // in nanotokens
}

// maxBurst keeps burst*1e9 inside an int64.
const maxBurst = 1 << 32

func newBucketRate(r RateLimit) bucketRate {
	burst := r.Burst
	if burst <= 0 {
		burst = 2 * r.PerSecond
	}
	return bucketRate{rate: int64(r.PerSecond), burst: min(int64(burst), maxBurst) * 1e9}
}

// refill adds to level the tokens earned in d nanoseconds, up to burst.
func (b bucketRate) refill(level *int64, d int64) {
	if d >= (b.burst-*level)/b.rate {
		*level = b.burst
		return
	}
	*level += d * b.rate
}

// take spends n tokens of level and reports whether it still holds a
// non-negative amount.
func take(level *int64, n int64) bool {
	*level -= n * 1e9
	return *level >= 0
}

// rates is the transport's rate-limit configuration (Config.MessageRate
// and ByteRate).
type rates struct {
	msgs, bytes     bucketRate
	msgsOn, bytesOn bool
}

func newRates(msgs, bytes RateLimit) rates {
	r := rates{msgsOn: msgs.PerSecond > 0, bytesOn: bytes.PerSecond > 0}
	if r.msgsOn {
		r.msgs = newBucketRate(msgs)
	}
	if r.bytesOn {
		r.bytes = newBucketRate(bytes)
	}
	return r
}

// on reports whether a rate limit is on.
func (r *rates) on() bool { return r.msgsOn || r.bytesOn }

// limiter is a connection's rate-limit state, held inline in its Conn (24
// bytes, rather than a pointer to buckets that repeat the transport's rates):
// the levels of its two buckets and the time of their last refill. It is
// refilled once per read notification, with the clock read the worker
// takes anyway, so charging a message costs a subtraction. It belongs to
// the worker serving its connection (EPOLLONESHOT), so it takes no lock.
type limiter struct {
	last        int64 // unix nanoseconds of the last refill
	msgs, bytes int64 // bucket levels, in nanotokens
}

// start fills both buckets at now.
func (l *limiter) start(r *rates, now int64) {
	*l = limiter{last: now, msgs: r.msgs.burst, bytes: r.bytes.burst}
}

// refill refills both buckets at now; a clock that goes back changes
// nothing.
func (l *limiter) refill(r *rates, now int64) {
	d := now - l.last
	if d <= 0 {
		return
	}
	l.last = now
	if r.msgsOn {
		r.msgs.refill(&l.msgs, d)
	}
	if r.bytesOn {
		r.bytes.refill(&l.bytes, d)
	}
}
