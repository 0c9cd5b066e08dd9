package auth

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

func TestAddrLimiter(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	type step struct {
		after time.Duration // clock advance before the call
		ip    string
		ok    bool
		retry time.Duration // when refused
	}
	tests := []struct {
		name  string
		rate  router.RateLimit
		steps []step
	}{
		{name: "burst then refill", rate: router.RateLimit{PerSecond: 2, Burst: 3}, steps: []step{
			{ip: "192.0.2.1", ok: true}, {ip: "192.0.2.1", ok: true}, {ip: "192.0.2.1", ok: true},
			{ip: "192.0.2.1", retry: 500 * time.Millisecond},
			{ip: "192.0.2.1", retry: 500 * time.Millisecond}, // a refusal takes nothing
			{after: 250 * time.Millisecond, ip: "192.0.2.1", retry: 250 * time.Millisecond},
			{after: 250 * time.Millisecond, ip: "192.0.2.1", ok: true},
			{ip: "192.0.2.1", retry: 500 * time.Millisecond},
			{after: time.Hour, ip: "192.0.2.1", ok: true}, // refilled to burst, not beyond
			{ip: "192.0.2.1", ok: true}, {ip: "192.0.2.1", ok: true}, {ip: "192.0.2.1", retry: 500 * time.Millisecond},
		}},
		{name: "addresses have their own buckets", rate: router.RateLimit{PerSecond: 1, Burst: 1}, steps: []step{
			{ip: "192.0.2.1", ok: true}, {ip: "192.0.2.1", retry: time.Second},
			{ip: "192.0.2.2", ok: true}, {ip: "2001:db8::1", ok: true}, {ip: "2001:db8:0:1::1", ok: true},
		}},
		{name: "IPv6 by its /64, IPv4-mapped as IPv4", rate: router.RateLimit{PerSecond: 1, Burst: 1}, steps: []step{
			{ip: "2001:db8::1", ok: true}, {ip: "2001:db8::ffff:1234", retry: time.Second},
			{ip: "192.0.2.1", ok: true}, {ip: "::ffff:192.0.2.1", retry: time.Second},
		}},
		{name: "zero burst is twice the rate", rate: router.RateLimit{PerSecond: 1}, steps: []step{
			{ip: "192.0.2.1", ok: true}, {ip: "192.0.2.1", ok: true}, {ip: "192.0.2.1", retry: time.Second},
		}},
		{name: "a clock that goes back earns nothing", rate: router.RateLimit{PerSecond: 1, Burst: 1}, steps: []step{
			{ip: "192.0.2.1", ok: true}, {after: -time.Hour, ip: "192.0.2.1", retry: time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newAddrLimiter(tt.rate)
			now := time.Unix(1_700_000_000, 0)
			for i, s := range tt.steps {
				now = now.Add(s.after)
				ok, retry := l.allow(netip.MustParseAddr(s.ip), now)
				if ok != s.ok || retry != s.retry {
					t.Fatalf("step %d (%s): allow = %v, %v; want %v, %v", i, s.ip, ok, retry, s.ok, s.retry)
				}
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		l := newAddrLimiter(router.RateLimit{})
		if l.rate != 100 || l.burst != 1000*1e9 {
			t.Fatalf("rate %d burst %d", l.rate, l.burst/1e9)
		}
		if newAddrLimiter(router.RateLimit{PerSecond: -1}) != nil {
			t.Fatal("a negative PerSecond does not turn it off")
		}
	})
	t.Run("memory is bounded", func(t *testing.T) {
		l := newAddrLimiter(router.RateLimit{PerSecond: 1, Burst: 1})
		now := time.Unix(1_700_000_000, 0)
		b := v4.As4()
		for i := range 2 * maxTrackedAddrs {
			b[2], b[3] = byte(i>>8), byte(i)
			b[1] = byte(i >> 16)
			l.allow(netip.AddrFrom4(b), now)
			if n := l.tracked(); n > maxTrackedAddrs {
				t.Fatalf("%d addresses tracked after %d calls", n, i+1)
			}
		}
		// Once their buckets are full again, a sweep forgets them all.
		now = now.Add(2 * time.Second)
		l.mu.Lock()
		l.sweep(now.UnixNano())
		l.mu.Unlock()
		if n := l.tracked(); n != 0 {
			t.Fatalf("%d addresses tracked after a sweep of full buckets", n)
		}
	})
}

// TestChallengeRate: authreq over the client address's rate answers
// ErrorURIRateLimited, for every session of that address, and costs
// nothing else; the counter counts it.
func TestChallengeRate(t *testing.T) {
	var clk clock
	o := quickFail(Options{Applications: testApps(), Anonymous: whoamiOnly,
		ChallengeRate: router.RateLimit{PerSecond: 1, Burst: 2}})
	o.now = clk.now
	a, _, u := startAuth(t, o, router.Options{})
	c1, c2 := dial(t, u), dial(t, u) // both from 127.0.0.1
	challenge := c1.mustResult(ProcAuthReq, appKey)
	if uri, _ := c2.callError(ProcAuthReq, "nobody"); uri != ErrorURINoSuchAuthKey { // a refused authreq costs a token too
		t.Fatalf("unknown key: %s", uri)
	}
	for _, c := range []*wsClient{c1, c2} {
		r := c.call("limited", ProcAuthReq, appKey)
		if r[0] != float64(4) || r[2] != ErrorURIRateLimited ||
			r[3] != "too many authentication requests from this address: retry later" || len(r) != 5 {
			t.Fatalf("over the rate: %v", r)
		}
		// A token comes back a second after the burst was spent: less
		// the (real) time the calls took.
		if d, _ := r[4].(map[string]any); d["retry_after_ms"].(float64) < 500 || d["retry_after_ms"].(float64) > 1000 {
			t.Fatalf("details %v, want retry_after_ms in (500, 1000]", r[4])
		}
	}
	// auth is not limited: it answers the challenge c1 already holds.
	checkPerms(t, c1.mustResult(ProcAuth, sign(t, challenge)), AllPermissions())
	// The bucket refills.
	clk.advance(time.Second)
	c2.mustResult(ProcAuthReq, appKey)
	if n := a.Stats().RateLimitedChallenges; n != 2 {
		t.Fatalf("RateLimitedChallenges = %d, want 2", n)
	}

	// Off: no limit at all.
	o.ChallengeRate = router.RateLimit{PerSecond: -1}
	a, _, u = startAuth(t, o, router.Options{})
	c := dial(t, u)
	for range 5 {
		if uri, _ := c.callError(ProcAuthReq, "nobody"); uri != ErrorURINoSuchAuthKey {
			t.Fatalf("with the limit off: %s", uri)
		}
	}
	if n := a.Stats().RateLimitedChallenges; n != 0 {
		t.Fatalf("RateLimitedChallenges = %d with the limit off", n)
	}
}

// tracked returns how many addresses l remembers.
func (l *addrLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
