package tagindex

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestOracle applies random Add, Remove and Match operations to an Index and to a brute-force
// model (a set of (S, v) pairs matched with SubsetOf), and compares every answer.
func TestOracle(t *testing.T) {
	tests := []struct {
		name   string
		bases  []string
		keys   []string
		values []string
		vals   int // values v are drawn from [0, vals)
		steps  int
	}{
		{"tiny vocabulary, long value lists", []string{"", "news"}, []string{"a", "b"}, []string{"1", "2"}, 100, 20000},
		{"small vocabulary", []string{"", "news", "sport"}, []string{"a", "b", "c", "d"}, []string{"1", "2", "3"}, 20, 20000},
		{"wide vocabulary", []string{"", "n1", "n2", "n3", "n4"}, []string{"a", "b", "c", "d", "e", "f"}, []string{"1", "2", "3", "4", "5", "x y"}, 5, 20000},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(42, uint64(i)))
			randSet := func() Set {
				m := map[string]string{}
				for _, k := range tt.keys {
					if rng.IntN(3) == 0 {
						m[k] = tt.values[rng.IntN(len(tt.values))]
					}
				}
				s, err := NewSet(tt.bases[rng.IntN(len(tt.bases))], m)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			type entry struct {
				set string
				v   int
			}
			type live struct {
				set Set
				h   Handle // from the Add of the entry
			}
			model := map[entry]live{}
			var x Index[int]
			var borrowed Set // reused parse buffers, to check that Add copies what it keeps
			for step := range tt.steps {
				s := randSet()
				switch op := rng.IntN(20); {
				case op < 7: // Add, half of the time from a borrowed set
					v := rng.IntN(tt.vals)
					var h Handle
					if rng.IntN(2) == 0 {
						if err := borrowed.ParseTopic([]byte(s.String())); err != nil {
							t.Fatal(err)
						}
						h = x.Add(borrowed, v)
						_ = borrowed.ParseTopic([]byte("zz?zz=zz&yy=yy&xx=xx&ww=ww&vv=vv&uu=uu"))
					} else {
						h = x.Add(s, v)
					}
					e := entry{s.String(), v}
					if old, ok := model[e]; ok && old.h != h {
						t.Fatalf("step %d: Add(%q, %d) again = %v, first %v", step, e.set, v, h, old.h)
					}
					model[e] = live{s, h}
				case op < 11: // Remove, of a live entry most of the time
					v := rng.IntN(tt.vals)
					if len(model) > 0 && rng.IntN(8) != 0 {
						for e, l := range model { // a random live entry
							s, v = l.set, e.v
							break
						}
					}
					e := entry{s.String(), v}
					_, want := model[e]
					if got := x.Remove(s, v); got != want {
						t.Fatalf("step %d: Remove(%q, %d) = %v, want %v", step, e.set, v, got, want)
					}
					delete(model, e)
				case op < 15: // RemoveHandle of a live entry
					for e, l := range model {
						if !x.RemoveHandle(l.h, e.v) {
							t.Fatalf("step %d: RemoveHandle(%v of %q, %d) = false", step, l.h, e.set, e.v)
						}
						delete(model, e)
						break
					}
				default: // Match, of a subset of a random set
					p := s
					if rng.IntN(2) == 0 {
						p = subset(rng, s)
					}
					var want []int
					for e, l := range model {
						if p.SubsetOf(l.set) {
							want = append(want, e.v)
						}
					}
					slices.Sort(want)
					got := matchAll(t, &x, p, func(a, b int) int { return a - b })
					if !slices.Equal(got, want) {
						t.Fatalf("step %d: Match(%q) = %v, want %v", step, p.String(), got, want)
					}
				}
				if x.Len() != len(model) {
					t.Fatalf("step %d: Len() = %d, want %d", step, x.Len(), len(model))
				}
				if step%500 == 0 {
					checkIndex(t, &x)
				}
			}
			checkIndex(t, &x)
		})
	}
}

// subset returns a random subset of s.
func subset(rng *rand.Rand, s Set) Set {
	var ts []Tag
	for _, tag := range s.Tags() {
		if rng.IntN(2) == 0 {
			ts = append(ts, tag)
		}
	}
	return Set{tags: ts}
}
