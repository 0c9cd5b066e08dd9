package tagindex

import (
	"math/rand/v2"
	"testing"
)

// TestSetTable inserts and removes groups with few distinct hashes (long probe runs that wrap
// around the table), across growth and shrinking, checking that every live group stays reachable.
func TestSetTable(t *testing.T) {
	tests := []struct {
		name   string
		hashes uint32 // hashes are drawn from [0, hashes) and spread over the high bits
		n      int
	}{
		{"colliding", 8, 3000},
		{"spread", 1 << 30, 5000},
		{"wrapping", 4, 40},
	}
	for k, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(k)))
			var tab setTable
			live := map[uint32]uint32{} // gid -> hash
			check := func() {
				for gid, h := range live {
					i, mask := tab.first(h)
					for tab.slots[i] != slot(h, gid) {
						if tab.slots[i] == 0 {
							t.Fatalf("group %d (hash %x) unreachable", gid, h)
						}
						i = (i + 1) & mask
					}
				}
				if tab.count != len(live) {
					t.Fatalf("count %d, want %d", tab.count, len(live))
				}
			}
			hash := func() uint32 {
				h := rng.Uint32N(tt.hashes)
				return h*0x9E3779B1 | 0xF // odd and spread, some ending near the table's end
			}
			for gid := range uint32(tt.n) {
				h := hash()
				tab.insert(h, gid)
				live[gid] = h
				if gid%97 == 0 {
					check()
				}
			}
			check()
			peak := len(tab.slots)
			for gid := range uint32(tt.n) {
				if rng.IntN(10) < 9 {
					tab.remove(live[gid], gid)
					delete(live, gid)
				}
				if gid%89 == 0 {
					check()
				}
			}
			check()
			if tt.n > 1000 && len(tab.slots) >= peak {
				t.Errorf("table did not shrink: %d slots for %d groups", len(tab.slots), tab.count)
			}
		})
	}
}
