package tagindex

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// mustTopic parses uri or fails the test.
func mustTopic(tb testing.TB, uri string) Set {
	tb.Helper()
	s, err := ParseTopic(uri)
	if err != nil {
		tb.Fatalf("ParseTopic(%q): %v", uri, err)
	}
	return s
}

// matchAll returns the sorted values that Match calls for p, after checking the count it returns.
func matchAll[T comparable](tb testing.TB, x *Index[T], p Set, less func(a, b T) int) []T {
	tb.Helper()
	var got []T
	n := x.Match(p, func(v T) { got = append(got, v) })
	if n != len(got) {
		tb.Fatalf("Match(%q) returned %d, called fn %d times", p.String(), n, len(got))
	}
	slices.SortFunc(got, less)
	return got
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestMatchSpec covers the examples of docs/protocol.md#tag-matching.
func TestMatchSpec(t *testing.T) {
	subs := []string{
		"news?lang=FR",
		"news?lang=FR&user=42",
		"news?lang=EN",
		"news",
		"sport?lang=FR",
		"sport?user=42",
		"?lang=FR",
	}
	var x Index[string]
	for _, s := range subs {
		x.Add(mustTopic(t, s), s)
	}
	tests := []struct {
		name string
		pub  Set
		want []string
	}{
		{"tagged publication", mustTopic(t, "news?lang=FR"), []string{"news?lang=FR", "news?lang=FR&user=42"}},
		{"same tags other order", mustTopic(t, "news?user=42&lang=FR"), []string{"news?lang=FR&user=42"}},
		{"plain base reaches every subscription on it", mustTopic(t, "news"), []string{"news", "news?lang=EN", "news?lang=FR", "news?lang=FR&user=42"}},
		{"tags only from a topic", mustTopic(t, "?lang=FR"), []string{"?lang=FR", "news?lang=FR", "news?lang=FR&user=42", "sport?lang=FR"}},
		{"tags only from JSON", mustJSON(t, `{"user":42}`), []string{"news?lang=FR&user=42", "sport?user=42"}},
		{"empty set reaches everybody", Set{}, []string{"?lang=FR", "news", "news?lang=EN", "news?lang=FR", "news?lang=FR&user=42", "sport?lang=FR", "sport?user=42"}},
		{"unknown tag", mustTopic(t, "news?lang=DE"), nil},
		{"unknown base", mustTopic(t, "weather"), nil},
		{"more tags than any subscription", mustTopic(t, "news?lang=FR&user=42&x=1"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchAll(t, &x, tt.pub, compareStrings)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Match(%q) = %q, want %q", tt.pub.String(), got, tt.want)
			}
		})
	}
}

func mustJSON(tb testing.TB, obj string) Set {
	tb.Helper()
	s, err := ParseJSON([]byte(obj))
	if err != nil {
		tb.Fatalf("ParseJSON(%q): %v", obj, err)
	}
	return s
}

func TestAddRemove(t *testing.T) {
	var x Index[int]
	a := mustTopic(t, "news?lang=FR")
	b := mustTopic(t, "news?lang=FR&user=42")
	tests := []struct {
		name string
		op   func() bool // returns Remove's result, or true for Add
		len  int
	}{
		{"add a 1", func() bool { x.Add(a, 1); return true }, 1},
		{"add a 1 again is a no-op", func() bool { x.Add(a, 1); return true }, 1},
		{"add a 2", func() bool { x.Add(a, 2); return true }, 2},
		{"add b 1", func() bool { x.Add(b, 1); return true }, 3},
		{"remove absent value", func() bool { return !x.Remove(a, 3) }, 3},
		{"remove unknown set", func() bool { return !x.Remove(mustTopic(t, "news?lang=EN"), 1) }, 3},
		{"remove a 1", func() bool { return x.Remove(a, 1) }, 2},
		{"remove a 1 twice", func() bool { return !x.Remove(a, 1) }, 2},
		{"remove a 2", func() bool { return x.Remove(a, 2) }, 1},
		{"remove b 1", func() bool { return x.Remove(b, 1) }, 0},
		{"remove from empty", func() bool { return !x.Remove(b, 1) }, 0},
	}
	for _, tt := range tests {
		if !tt.op() {
			t.Fatalf("%s: unexpected Remove result", tt.name)
		}
		if got := x.Len(); got != tt.len {
			t.Fatalf("%s: Len() = %d, want %d", tt.name, got, tt.len)
		}
		checkIndex(t, &x)
	}
	if x.ids.count != 0 || x.sets.count != 0 {
		t.Fatalf("empty index keeps %d tags and %d sets", x.ids.count, x.sets.count)
	}
}

// TestRemoveHandle checks that Add's handle names the entry's set for RemoveHandle: shared by
// equal sets and by every value of a set, refused once the entry is gone or for a value the set
// does not hold.
func TestRemoveHandle(t *testing.T) {
	var x Index[int]
	a := mustTopic(t, "news?lang=FR&user=42")
	a2 := mustTopic(t, "news?user=42&lang=FR") // equal to a
	b := mustTopic(t, "news?lang=EN")
	ha1 := x.Add(a, 1)
	tests := []struct {
		name string
		op   func() bool // the check, true when it holds
		len  int
	}{
		{"zero handle names no set", func() bool { return !x.RemoveHandle(Handle{}, 1) }, 1},
		{"equal set, same handle", func() bool { return x.Add(a2, 2) == ha1 }, 2},
		{"duplicate pair, same handle", func() bool { return x.Add(a, 1) == ha1 }, 2},
		{"other set, other handle", func() bool { return x.Add(b, 1) != ha1 }, 3},
		{"value not in the set", func() bool { return !x.RemoveHandle(ha1, 3) }, 3},
		{"remove a 1 by handle", func() bool { return x.RemoveHandle(ha1, 1) }, 2},
		{"remove a 1 again", func() bool { return !x.RemoveHandle(ha1, 1) }, 2},
		{"b 1 is still there", func() bool { return x.Match(b, func(int) {}) == 1 }, 2},
		{"remove a 2 by handle, the set's last", func() bool { return x.RemoveHandle(ha1, 2) }, 1},
		{"handle of a dropped set", func() bool { return !x.RemoveHandle(ha1, 2) }, 1},
		{"handle out of range", func() bool { return !x.RemoveHandle(Handle{1 << 30}, 1) }, 1},
		{"Remove by set after", func() bool { return x.Remove(b, 1) }, 0},
	}
	for _, tt := range tests {
		if !tt.op() {
			t.Fatalf("%s: check failed", tt.name)
		}
		if got := x.Len(); got != tt.len {
			t.Fatalf("%s: Len() = %d, want %d", tt.name, got, tt.len)
		}
		checkIndex(t, &x)
	}
	if x.ids.count != 0 || x.sets.count != 0 {
		t.Fatalf("empty index keeps %d tags and %d sets", x.ids.count, x.sets.count)
	}
	var zero Index[int]
	if zero.RemoveHandle(Handle{}, 0) || zero.RemoveHandle(Handle{1}, 0) {
		t.Fatal("RemoveHandle on zero index")
	}
}

func TestZeroIndex(t *testing.T) {
	var x Index[int]
	if n := x.Match(Set{}, func(int) { t.Fatal("called") }); n != 0 {
		t.Fatalf("Match on zero index = %d", n)
	}
	if n := x.Match(mustTopic(t, "news"), func(int) { t.Fatal("called") }); n != 0 {
		t.Fatalf("Match on zero index = %d", n)
	}
	if x.Remove(mustTopic(t, "news"), 1) || x.Len() != 0 {
		t.Fatal("Remove on zero index")
	}
}

// TestLongValueLists crosses the thresholds at which a group's value list gets and drops its
// position map.
func TestLongValueLists(t *testing.T) {
	var x Index[int]
	s := mustTopic(t, "news?lang=FR")
	const n = 5 * arenaVals // past the arena, through several sizes of the position table
	for round := range 2 {
		for i := range n {
			x.Add(s, i)
			x.Add(s, i) // duplicate: no-op at every list length
		}
		checkIndex(t, &x)
		if got := x.Len(); got != n {
			t.Fatalf("round %d: Len() = %d, want %d", round, got, n)
		}
		for i := 0; i < n; i += 2 { // remove evens then odds, so that swap-removes move values
			if !x.Remove(s, i) {
				t.Fatalf("Remove(%d) = false", i)
			}
			checkIndex(t, &x)
		}
		got := matchAll(t, &x, mustTopic(t, "news"), func(a, b int) int { return a - b })
		if len(got) != n/2 || got[0] != 1 {
			t.Fatalf("after removing evens: %v", got)
		}
		for i := 1; i < n; i += 2 {
			if !x.Remove(s, i) {
				t.Fatalf("Remove(%d) = false", i)
			}
			checkIndex(t, &x)
		}
		if x.Len() != 0 {
			t.Fatalf("Len() = %d after removing all", x.Len())
		}
	}
}

// TestManyTags covers sets with more tags than Match looks up on its stack and than the small
// block free lists hold.
func TestManyTags(t *testing.T) {
	var x Index[int]
	big := map[string]string{}
	for i := range 40 {
		big[fmt.Sprintf("k%02d", i)] = fmt.Sprint(i)
	}
	s, err := NewSet("news", big)
	if err != nil {
		t.Fatal(err)
	}
	x.Add(s, 1)
	x.Add(s, 2)
	x.Add(mustTopic(t, "news?k00=0"), 3)
	checkIndex(t, &x)
	if got := matchAll(t, &x, s, func(a, b int) int { return a - b }); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("Match(big) = %v", got)
	}
	if got := matchAll(t, &x, mustTopic(t, "?k00=0&k39=39"), func(a, b int) int { return a - b }); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("Match(two tags) = %v", got)
	}
	x.Remove(s, 1)
	x.Remove(s, 2)
	x.Add(s, 4) // reuses the freed 41-tag block
	checkIndex(t, &x)
	if got := matchAll(t, &x, mustTopic(t, "news?k00=0"), func(a, b int) int { return a - b }); !slices.Equal(got, []int{3, 4}) {
		t.Fatalf("Match = %v", got)
	}
}

// TestConcurrent runs publishers and subscribers in parallel; run it with -race.
func TestConcurrent(t *testing.T) {
	var x Index[int]
	const writers, readers, rounds = 4, 4, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			var s Set
			for i := range rounds {
				uri := fmt.Sprintf("news?lang=L%d&user=%d", i%3, w*rounds+i)
				if err := s.ParseTopic([]byte(uri)); err != nil {
					t.Error(err)
					return
				}
				h := x.Add(s, w*rounds+i)
				switch i % 4 {
				case 0:
					x.Remove(s, w*rounds+i)
				case 2:
					x.RemoveHandle(h, w*rounds+i)
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			var p Set
			for i := range rounds {
				lang := (r + i) % 3
				if err := p.ParseTopic(fmt.Appendf(nil, "news?lang=L%d", lang)); err != nil {
					t.Error(err)
					return
				}
				x.Match(p, func(v int) {
					if v%rounds%3 != lang {
						t.Errorf("Match(lang=L%d) reached %d", lang, v)
					}
				})
				x.Len()
			}
		})
	}
	wg.Wait()
	checkIndex(t, &x)
	if got, want := x.Len(), writers*rounds/2; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	if got := x.Match(mustTopic(t, "news"), func(int) {}); got != writers*rounds/2 {
		t.Fatalf("Match(news) = %d", got)
	}
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	uri := []byte("http://example.com/news?lang=FR&user=42&city=Z%C3%BCrich")
	var s Set
	if err := s.ParseTopic(uri); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := s.ParseTopic(uri); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("(*Set).ParseTopic allocates %v times", n)
	}
	bad := []byte("http://example.com/news?lang=FR&lang=EN")
	if n := testing.AllocsPerRun(100, func() { _ = s.ParseTopic(bad) }); n != 0 {
		t.Errorf("(*Set).ParseTopic allocates %v times on error", n)
	}

	var x Index[int]
	for i := range 100 {
		x.Add(mustTopic(t, fmt.Sprintf("http://example.com/news?lang=FR&user=%d&city=Z%%C3%%BCrich", i%10)), i)
	}
	count := 0
	fn := func(int) { count++ }
	for _, p := range []string{"http://example.com/news?lang=FR&user=4", "http://example.com/news", "?lang=FR", "", "news?nothing=here"} {
		if err := s.ParseTopic([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { x.Match(s, fn) }); n != 0 {
			t.Errorf("Match(%q) allocates %v times", p, n)
		}
	}
	// Steady-state Add and Remove of a set whose tags and group already exist.
	if err := s.ParseTopic([]byte("http://example.com/news?lang=FR&user=4&city=Z%C3%BCrich")); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { x.Add(s, 1000); x.Remove(s, 1000) }); n != 0 {
		t.Errorf("Add+Remove on an existing group allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { x.RemoveHandle(x.Add(s, 1000), 1000) }); n != 0 {
		t.Errorf("Add+RemoveHandle on an existing group allocates %v times", n)
	}
}

// checkIndex verifies the internal invariants of x.
func checkIndex[T comparable](tb testing.TB, x *Index[T]) {
	tb.Helper()
	x.mu.RLock()
	defer x.mu.RUnlock()
	live := 0
	for id, ti := range x.tags {
		if len(ti.posting) == 0 {
			if !slices.Contains(x.freeTags, uint32(id)) {
				tb.Fatalf("tag %d has no posting but is not free", id)
			}
			continue
		}
		live++
		if got, ok := x.lookup(ti.tag, x.tagHash(ti.tag)); !ok || got != uint32(id) {
			tb.Fatalf("tag %d %q: ids maps to %d, %v", id, ti.tag, got, ok)
		}
		for at, gid := range ti.posting {
			g := &x.groups[gid]
			if g.nvals == 0 {
				tb.Fatalf("tag %d posts dead group %d", id, gid)
			}
			ids, pos := x.set(gid)
			k := slices.Index(ids, uint32(id))
			if k < 0 || pos[k] != uint32(at) {
				tb.Fatalf("group %d: tag %d at posting %d, block %v %v", gid, id, at, ids, pos)
			}
		}
	}
	if live != x.ids.count {
		tb.Fatalf("%d live tags, %d in ids", live, x.ids.count)
	}
	entries := 0
	inTable := 0
	for i, sl := range x.sets.slots {
		if sl == 0 {
			continue
		}
		inTable++
		gid := uint32(sl) - 1
		g := &x.groups[gid]
		if g.nvals == 0 {
			tb.Fatalf("set table slot %d holds dead group %d", i, gid)
		}
		ids, _ := x.set(gid)
		if h := x.hash(ids); h != uint32(sl>>32) {
			tb.Fatalf("group %d: hash %x in table, %x computed", gid, sl>>32, h)
		}
		if found, ok := x.find(ids, x.hash(ids)); !ok || found != gid {
			tb.Fatalf("group %d: find = %d, %v", gid, found, ok)
		}
	}
	if inTable != x.sets.count {
		tb.Fatalf("set table: %d slots used, count %d", inTable, x.sets.count)
	}
	groups := 0
	for gid := range x.groups {
		g := &x.groups[gid]
		if g.nvals == 0 {
			continue
		}
		groups++
		ids, pos := x.set(uint32(gid))
		for k := range ids {
			if x.tags[ids[k]].posting[pos[k]] != uint32(gid) {
				tb.Fatalf("group %d: position of tag %d is wrong", gid, ids[k])
			}
			if k > 0 && compareTags(x.tags[ids[k-1]].tag, x.tags[ids[k]].tag) >= 0 {
				tb.Fatalf("group %d: tags out of order", gid)
			}
		}
		if g.ids[0] != spilled && len(ids) < inlineTags && g.ids[len(ids)] != noTag {
			tb.Fatalf("group %d: inline ids %v", gid, g.ids)
		}
		if g.nvals == 1 {
			entries++
			continue
		}
		vals := x.values(g)
		if uint32(len(vals)) != g.nvals {
			tb.Fatalf("group %d: %d values, nvals %d", gid, len(vals), g.nvals)
		}
		entries += len(vals)
		for i, v := range vals {
			if slices.Index(vals, v) != i {
				tb.Fatalf("group %d: duplicate value %v", gid, v)
			}
		}
		if g.nvals > arenaVals {
			checkLongList(tb, x.seed, &x.long[g.vals])
		}
	}
	checkArenas(tb, x)
	if inTable != groups {
		tb.Fatalf("%d groups, %d in the set table", groups, inTable)
	}
	if entries != x.n {
		tb.Fatalf("%d entries counted, n = %d", entries, x.n)
	}
}

// checkLongList verifies that the position table of l finds every value at its position and
// holds nothing else.
func checkLongList[T comparable](tb testing.TB, seed maphash.Seed, l *longList[T]) {
	tb.Helper()
	used := 0
	for _, s := range l.slots {
		if s != 0 {
			used++
		}
	}
	if used != len(l.vals) || len(l.vals)*4 > len(l.slots)*3 {
		tb.Fatalf("long list: %d values, %d of %d slots used", len(l.vals), used, len(l.slots))
	}
	for i, v := range l.vals {
		j := l.slot(seed, v)
		if j < 0 || l.slots[j] != uint32(i)+1 {
			tb.Fatalf("long list: value %v at %d, slot %d", v, i, j)
		}
	}
}

// checkArenas verifies that the blocks and value lists of live groups and the free lists of both
// arenas cover each arena exactly once, and that free value lists hold no values.
func checkArenas[T comparable](tb testing.TB, x *Index[T]) {
	tb.Helper()
	vals := make([]int, len(x.vals)) // owners: 0 none, 1 a group, 2 a free list
	blocks := make([]int, len(x.blocks))
	claim := func(owners []int, off, n uint32, who int, what string) {
		for i := off; i < off+n; i++ {
			if owners[i] != 0 {
				tb.Fatalf("%s: word %d claimed twice", what, i)
			}
			owners[i] = who
		}
	}
	var zero T
	for c, free := range x.freeVals {
		for _, off := range free {
			claim(vals, off, 2<<c, 2, "free value list")
			for _, v := range x.vals[off : off+2<<c] {
				if v != zero {
					tb.Fatalf("free value list at %d holds %v", off, v)
				}
			}
		}
	}
	for n, free := range x.freeSmall {
		for _, off := range free {
			claim(blocks, off, 2*uint32(n), 2, "free block")
		}
	}
	for n, free := range x.freeLarge {
		for _, off := range free {
			claim(blocks, off, 2*n, 2, "free block")
		}
	}
	for gid := range x.groups {
		g := &x.groups[gid]
		if g.nvals == 0 {
			continue
		}
		if g.ids[0] == spilled {
			claim(blocks, g.ids[1], 2*g.ids[2], 1, "block")
		}
		if g.nvals >= 2 && g.nvals <= arenaVals {
			c := valClass(g.nvals)
			claim(vals, g.vals, 2<<c, 1, "value list")
			for _, v := range x.vals[g.vals+g.nvals : g.vals+2<<c] {
				if v != zero {
					tb.Fatalf("group %d: value %v beyond its list", gid, v)
				}
			}
		}
	}
	for what, owners := range map[string][]int{"vals": vals, "blocks": blocks} {
		if i := slices.Index(owners, 0); i >= 0 {
			tb.Fatalf("%s arena: word %d is neither used nor free", what, i)
		}
	}
}

// TestScanPrefetch checks that the prefetching scan, which Match uses only on indexes of more than
// prefetchGroups sets, calls fn exactly as the plain scan does, on every posting list of a random
// index with value lists of every kind (one value, arena, long), for one and for two tags.
func TestScanPrefetch(t *testing.T) {
	var x Index[int]
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 20000 {
		m := map[string]string{"a": strconv.Itoa(rng.IntN(50))}
		if rng.IntN(2) == 0 {
			m["b"] = strconv.Itoa(rng.IntN(2000))
		}
		s, err := NewSet([]string{"n1", "n2", "n3"}[rng.IntN(3)], m)
		if err != nil {
			t.Fatal(err)
		}
		x.Add(s, i)
	}
	collect := func(scan func(post, pids []uint32, fn func(int)) int, post, pids []uint32) []int {
		var got []int
		n := scan(post, pids, func(v int) { got = append(got, v) })
		if n != len(got) {
			t.Fatalf("scan returned %d for %d calls", n, len(got))
		}
		return got // in posting order, then value order: the same for both scans
	}
	lists := 0
	for id := range x.tags {
		post := x.tags[id].posting
		if len(post) == 0 {
			continue
		}
		lists++
		ids, _ := x.set(post[len(post)/2])
		for _, pids := range [][]uint32{nil, {ids[0], ids[len(ids)-1]}} { // in key order, as Match
			want := collect(x.scanPlain, post, pids)
			if got := collect(x.scanPrefetch, post, pids); !slices.Equal(got, want) {
				t.Fatalf("tag %d, pids %v: prefetching scan %d calls, plain %d", id, pids, len(got), len(want))
			}
		}
	}
	if lists < 100 {
		t.Fatalf("only %d posting lists", lists)
	}
}

// TestSets counts distinct tag sets: equal sets of different values count
// once, and a set is forgotten with its last value.
func TestSets(t *testing.T) {
	var x Index[int]
	a, _ := ParseTopic("http://x.com/t?a=1&b=2")
	b, _ := ParseTopic("http://x.com/t?b=2&a=1") // the same set
	c, _ := ParseTopic("http://x.com/t?a=1")
	ha := x.Add(a, 1)
	hb := x.Add(b, 2)
	hc := x.Add(c, 3)
	if x.Sets() != 2 || x.Len() != 3 {
		t.Fatalf("Sets %d, Len %d; want 2, 3", x.Sets(), x.Len())
	}
	x.RemoveHandle(ha, 1)
	x.RemoveHandle(hc, 3)
	if x.Sets() != 1 {
		t.Fatalf("Sets %d after removals, want 1", x.Sets())
	}
	x.RemoveHandle(hb, 2)
	if x.Sets() != 0 || x.Len() != 0 {
		t.Fatalf("Sets %d, Len %d when empty", x.Sets(), x.Len())
	}
}
