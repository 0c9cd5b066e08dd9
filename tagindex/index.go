package tagindex

import (
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// Index is an inverted index from tags to the values subscribed with a tag set holding them
// (docs/protocol.md#tag-matching): Add(S, v) subscribes v with tag set S, and Match(P, fn) calls fn
// for every v whose S is a superset of P.
//
// The zero value is an empty index ready to use; an Index must not be copied after first use. It is
// safe for concurrent use: Add, Remove and RemoveHandle take its write lock, Match and Len its read
// lock.
//
// Entries are a set: adding a pair (S, v) that is already present changes nothing, so each pair is
// counted and matched once and one Remove takes it away. T is compared with == as a map key is
// (an interface T holding an uncomparable value panics).
//
// Layout. Equal tag sets share one group, which holds the set's values; Add returns the group as a
// Handle, so that a subscriber keeps 4 bytes rather than its Set to unsubscribe. Tags are interned
// once per index in an open-addressing table (so a million subscriptions to user=42 share one
// "user"/"42" string and one tag id), and each tag has a posting list of the groups whose set holds
// it, a dense []uint32. Each group remembers its position in each of its tags' posting lists, so
// that removing it is a swap-remove in O(len(S)). A group keeps its single value and the tag ids of
// a set of up to 4 tags in one 32-byte record, so that checking a candidate compares ids in one
// record; larger sets spill to a []uint32 arena, value lists of up to 64 values live in a []T
// arena, and longer ones in their own slices with a table of positions. Match prefetches the
// records of the candidates ahead of the one it checks (see scan). BenchmarkMatch reports the bytes
// the index holds per subscription (B/sub); the figures are in bench/RESULTS.md, "tagindex: match,
// add, remove".
type Index[T comparable] struct {
	mu sync.RWMutex

	seeded   bool      // seed is set
	ids      setTable  // finds a tag id (index in tags) by its tag
	tags     []tagInfo // by tag id
	freeTags []uint32  // unused tag ids

	groups     []group[T]           // by group id
	gpos       [][inlineTags]uint32 // by group id: positions in the posting lists of an inline set
	freeGroups []uint32             // unused group ids
	sets       setTable             // finds a group by its set
	seed       maphash.Seed

	blocks    []uint32              // arena: per set of more than inlineTags tags, its ids then its positions
	freeSmall [smallBlocks][]uint32 // offsets of free blocks for n tags, n < smallBlocks
	freeLarge map[uint32][]uint32   // offsets of free blocks for n tags, n >= smallBlocks

	vals     []T                  // arena: value lists of 2 to arenaVals values, capacity a power of two
	freeVals [valClasses][]uint32 // offsets of free value lists, by capacity class
	long     []longList[T]        // value lists longer than arenaVals
	freeLong []uint32             // unused indexes of long

	scratch []uint32 // tag ids of the set being added or removed (under mu)
	n       int      // number of (S, v) entries
}

const (
	inlineTags  = 4                  // a group holds the ids of up to this many tags
	noTag       = math.MaxUint32     // pads group.ids after the last tag id of an inline set
	spilled     = math.MaxUint32 - 1 // group.ids[0] of a set of more than inlineTags tags
	smallBlocks = 16                 // block sizes with a free list in an array rather than a map
	arenaVals   = 64                 // value lists up to this length live in the vals arena
	valClasses  = 6                  // capacity classes of the vals arena: 2, 4, ..., arenaVals
	stackTags   = 16                 // Match looks up publications of up to this many tags without allocating
	internBatch = 8                  // Add looks up the tags of sets of up to this many tags together
)

// tagInfo is one interned tag and its posting list.
type tagInfo struct {
	tag     Tag      // owns its strings (one allocation for both)
	posting []uint32 // ids of the groups whose set holds tag, in no order
	hash    uint32   // tagHash(tag), of which set hashes are made
}

// group is one distinct tag set and the values subscribed with it: what Match reads of a
// candidate, 32 bytes for a pointer T (two to a cache line).
//
// The set is ids: the tag ids in the set's key order, padded with noTag, or, for a set of more than
// inlineTags tags, spilled, the offset in Index.blocks of its ids followed by its positions, and
// its number of tags. The positions of the group in its tags' posting lists, which only Add and
// Remove need, are in Index.gpos for an inline set.
//
// The values are one when nvals is 1, Index.vals[vals:vals+nvals] when nvals <= arenaVals (with
// room for the next power of two), and Index.long[vals] beyond.
type group[T comparable] struct {
	one   T                  // the value, when nvals == 1
	vals  uint32             // offset in Index.vals or index in Index.long of the values, when nvals > 1
	nvals uint32             // number of values; 0 for an unused slot
	ids   [inlineTags]uint32 // tag ids padded with noTag, or spilled, block offset, number of tags
}

// Handle names the tag set of an entry in an Index: Add returns it, and RemoveHandle takes the
// entry out with it, without the set. A subscriber keeps the 4-byte Handle rather than a copy of
// its Set, and the removal skips looking the set's tags up.
//
// A Handle is valid from the Add that returned it until its entry is removed, by either remove
// method; all entries with one set share one Handle. Once the last entry of a set is removed its
// Handle may be given to a set added later, so a Handle must not be used after its entry is gone.
// The zero Handle names no set.
type Handle struct {
	g uint32 // group id + 1; 0 for none
}

// Add subscribes v with tag set s and returns the handle of s in x, which RemoveHandle takes. It
// copies what it keeps, so s may alias a buffer that a later (*Set).ParseTopic reuses. Adding a
// pair that is already present changes nothing and returns the same handle.
func (x *Index[T]) Add(s Set, v T) Handle {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.seeded {
		x.seed = maphash.MakeSeed()
		x.seeded = true
	}
	ids, h := x.internAll(s.tags)
	gid, ok := x.find(ids, h)
	if ok {
		if x.addValue(gid, v) {
			x.n++
		}
	} else {
		gid = x.newGroup(ids, h, v)
		x.n++
	}
	return Handle{gid + 1}
}

// RemoveHandle removes the pair (S, v), where S is the set named by h, and reports whether it was
// present. It does what Remove(S, v) does at a fraction of the cost: no tag of S is looked up.
func (x *Index[T]) RemoveHandle(h Handle, v T) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	gid := h.g - 1
	if h.g == 0 || int(gid) >= len(x.groups) {
		return false
	}
	// The group's positions, which dropping it reads, miss alongside its record.
	prefetch(unsafe.Pointer(unsafe.SliceData(x.gpos)), unsafe.Sizeof(x.gpos[0]), []uint32{gid})
	return x.remove(gid, v)
}

// Remove removes the pair (s, v) and reports whether it was present.
func (x *Index[T]) Remove(s Set, v T) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.seeded { // nothing was ever added, and there is no seed to hash with
		return false
	}
	ids := x.scratch[:0]
	for _, t := range s.tags {
		id, ok := x.lookup(t, x.tagHash(t))
		if !ok {
			return false
		}
		ids = append(ids, id)
	}
	x.scratch = ids
	gid, ok := x.find(ids, x.hash(ids))
	return ok && x.remove(gid, v)
}

// remove removes v from group gid, dropping the group if v was its last value, and reports whether
// v was there. x.mu must be held for writing.
func (x *Index[T]) remove(gid uint32, v T) bool {
	empty, ok := x.removeValue(gid, v)
	if !ok {
		return false
	}
	if empty {
		x.dropGroup(gid)
	}
	x.n--
	return true
}

// Match calls fn once for every entry (S, v) with p ⊆ S and returns how many calls it made; an empty
// p matches every entry. Its cost follows the shortest posting list among p's tags (the candidates,
// each checked in O(len(S))), never the size of the index, and it allocates nothing for p of up to
// 16 tags. The order of the calls is unspecified.
//
// fn runs under the index's read lock: it must not call any method of x (Add and Remove would
// deadlock, and so would a nested Match while a writer waits). It may keep v, not p.
func (x *Index[T]) Match(p Set, fn func(T)) int {
	n, _ := x.match(p, fn)
	return n
}

// Len returns the number of entries (S, v) in the index.
func (x *Index[T]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// Sets returns the number of distinct tag sets in the index: the entries
// whose sets are equal count once.
func (x *Index[T]) Sets() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.groups) - len(x.freeGroups)
}

// match is Match, also returning the number of candidate groups it visited (for benchmarks).
func (x *Index[T]) match(p Set, fn func(T)) (n, candidates int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(p.tags) == 0 {
		for i := range x.groups {
			if g := &x.groups[i]; g.nvals != 0 {
				candidates++
				n += x.emit(g, fn)
			}
		}
		return n, candidates
	}
	if x.ids.count == 0 { // no tag, and maybe no seed to hash with yet
		return 0, 0
	}
	var stack [stackTags]uint32
	pids := stack[:0]
	var shortest []uint32
	for i, t := range p.tags {
		id, ok := x.lookup(t, x.tagHash(t))
		if !ok {
			return 0, 0
		}
		pids = append(pids, id)
		if post := x.tags[id].posting; i == 0 || len(post) < len(shortest) {
			shortest = post
		}
	}
	if len(pids) == 1 {
		pids = nil // every candidate holds the one tag
	}
	candidates = len(shortest)
	return x.scan(shortest, pids, fn), candidates
}

// scan reads its candidates in batches, prefetching group records ahead batches on, once the
// index has prefetchGroups groups (8 MiB of records for a pointer T): below, the index mostly stays
// in the CPU caches and a plain loop is faster (bench/RESULTS.md, "tagindex: match, add, remove").
const (
	batch          = 16
	ahead          = 4
	window         = batch * ahead
	prefetchGroups = 1 << 18
)

// scan calls fn for the values of the groups in post whose set holds every tag of pids (of every
// group when pids is nil) and returns the number of calls.
func (x *Index[T]) scan(post, pids []uint32, fn func(T)) int {
	if len(x.groups) < prefetchGroups || len(post) <= window {
		return x.scanPlain(post, pids, fn)
	}
	return x.scanPrefetch(post, pids, fn)
}

// scanPlain is scan reading one candidate after the other.
func (x *Index[T]) scanPlain(post, pids []uint32, fn func(T)) (n int) {
	for _, gid := range post {
		if g := &x.groups[gid]; pids == nil || x.holds(g, pids) {
			n += x.emit(g, fn)
		}
	}
	return n
}

// scanPrefetch is scan for an index larger than the CPU caches.
//
// At a million subscriptions the group records and value lists are out of the caches, and a loop
// that reads one candidate after the other waits for each cache miss in turn (bench/RESULTS.md,
// tagindex section, "What limits the misses, and what would move them"). So scanPrefetch runs a
// pipeline over batches of candidates: it prefetches the records of the batch ahead batches on,
// and the value lists of the batch two on, whose records have arrived by then, while it checks and
// emits the current batch from the cache. A prefetch does not wait for its load, unlike a read, which the CPU can run ahead
// of only as far as its reorder buffer reaches (a few candidates).
func (x *Index[T]) scanPrefetch(post, pids []uint32, fn func(T)) (n int) {
	var zero T
	groups := unsafe.Pointer(unsafe.SliceData(x.groups))
	gsize := unsafe.Sizeof(x.groups[0])
	vals := unsafe.Pointer(unsafe.SliceData(x.vals))
	vsize := unsafe.Sizeof(zero)
	prefetch(groups, gsize, post[:min(len(post), window)])
	var offs [batch]uint32
	for len(post) > 0 {
		b := post[:min(len(post), batch)]
		if len(post) > window {
			prefetch(groups, gsize, post[window:min(len(post), window+batch)])
		}
		next := post[min(len(post), 2*batch):min(len(post), 3*batch)]
		k := 0
		for _, gid := range next {
			if g := &x.groups[gid]; g.nvals > 1 && g.nvals <= arenaVals {
				offs[k] = g.vals
				k++
			}
		}
		prefetch(vals, vsize, offs[:k])
		for _, gid := range b {
			g := &x.groups[gid]
			if pids == nil || x.holds(g, pids) {
				n += x.emit(g, fn)
			}
		}
		post = post[len(b):]
	}
	return n
}

// holds reports whether the set of g holds every tag of pids. Both list tag ids in key order, so
// the test is whether pids is a subsequence of g's ids (noTag, the padding, is never in pids).
func (x *Index[T]) holds(g *group[T], pids []uint32) bool {
	ids := g.ids[:]
	if ids[0] == spilled {
		ids = x.blocks[ids[1] : ids[1]+ids[2]]
	}
	j := 0
	for _, id := range ids {
		if id == pids[j] {
			j++
			if j == len(pids) {
				return true
			}
		}
	}
	return false
}

// set returns the tag ids of the set of group gid and the group's positions in their posting
// lists. The slices alias x.groups, x.gpos or x.blocks: they are valid until these grow.
func (x *Index[T]) set(gid uint32) (ids, pos []uint32) {
	g := &x.groups[gid]
	if g.ids[0] == spilled {
		off, n := g.ids[1], g.ids[2]
		b := x.blocks[off : off+2*n]
		return b[:n], b[n:]
	}
	n := 0
	for n < inlineTags && g.ids[n] != noTag {
		n++
	}
	return g.ids[:n], x.gpos[gid][:n]
}

// emit calls fn for each value of g and returns their number.
func (x *Index[T]) emit(g *group[T], fn func(T)) int {
	switch n := g.nvals; {
	case n == 1:
		fn(g.one)
	case n <= arenaVals:
		for _, v := range x.vals[g.vals : g.vals+n] {
			fn(v)
		}
	default:
		for _, v := range x.long[g.vals].vals {
			fn(v)
		}
	}
	return int(g.nvals)
}

// tagHash returns the hash of t.
func (x *Index[T]) tagHash(t Tag) uint32 {
	h := maphash.String(x.seed, t.Key)*0x9e3779b97f4a7c15 + maphash.String(x.seed, t.Value)
	return uint32(h ^ h>>32)
}

// lookup returns the id of t, whose hash is h, if t is interned.
func (x *Index[T]) lookup(t Tag, h uint32) (uint32, bool) {
	if x.ids.count == 0 {
		return 0, false
	}
	for i, mask := x.ids.first(h); ; i = (i + 1) & mask {
		s := x.ids.slots[i]
		if s == 0 {
			return 0, false
		}
		if id := uint32(s) - 1; uint32(s>>32) == h && x.tags[id].tag == t {
			return id, true
		}
	}
}

// internAll returns the ids of tags, interning those that are new, in x.scratch, and the hash of
// the set they make.
//
// A tag of a set just subscribed (user=42) is seldom in the CPU caches at a million
// subscriptions, and looking one up misses three times in a row: its slot, its record, its text.
// So internAll looks all the tags up together, one step at a time: the slots of all, then the
// records of all, then the first byte of every value, so that the misses of the tags overlap
// rather than add up. A set's hash is made of its tags' hashes, not of their ids, so that the
// set's slot in x.sets, which Add reads next, is prefetched before the tags are even found.
func (x *Index[T]) internAll(tags []Tag) ([]uint32, uint32) {
	ids := x.scratch[:0]
	if len(tags) > internBatch || x.ids.count == 0 {
		for _, t := range tags {
			ids = append(ids, x.intern(t, x.tagHash(t)))
		}
		x.scratch = ids
		return ids, x.hash(ids)
	}
	var (
		hs    [internBatch]uint32
		slots [internBatch]uint64
		cand  [internBatch]Tag  // the tag of the first slot whose hash bits match
		ok    [internBatch]bool // cand is set
		first [internBatch]byte // cand's first byte of value
	)
	for i, t := range tags {
		hs[i] = x.tagHash(t)
	}
	h := setHash(hs[:len(tags)])
	if len(x.sets.slots) > 0 {
		i, _ := x.sets.first(h)
		prefetch(unsafe.Pointer(unsafe.SliceData(x.sets.slots)), 8, []uint32{i})
	}
	mask := uint32(len(x.ids.slots) - 1)
	for i := range tags {
		slots[i] = x.ids.slots[hs[i]&mask]
	}
	for i := range tags {
		if s := slots[i]; s != 0 && uint32(s>>32) == hs[i] {
			cand[i], ok[i] = x.tags[uint32(s)-1].tag, true
		}
	}
	for i := range tags {
		if v := cand[i].Value; v != "" {
			first[i] = v[0]
		}
	}
	for i, t := range tags {
		if ok[i] && (t.Value == "" || first[i] == t.Value[0]) && cand[i] == t {
			ids = append(ids, uint32(slots[i])-1)
		} else {
			ids = append(ids, x.intern(t, hs[i]))
		}
	}
	x.scratch = ids
	return ids, h
}

// intern returns the id of t, whose hash is h, adding t (with copies of its strings) if it is new.
func (x *Index[T]) intern(t Tag, h uint32) uint32 {
	if id, ok := x.lookup(t, h); ok {
		return id
	}
	// One allocation for both strings. Not t.Key + t.Value: Go returns the other operand itself when
	// one is empty, and t may alias a buffer that the caller reuses.
	var b strings.Builder
	b.Grow(len(t.Key) + len(t.Value))
	b.WriteString(t.Key)
	b.WriteString(t.Value)
	text := b.String()
	t = Tag{text[:len(t.Key)], text[len(t.Key):]}
	var id uint32
	if k := len(x.freeTags); k > 0 {
		id = x.freeTags[k-1]
		x.freeTags = x.freeTags[:k-1]
		x.tags[id] = tagInfo{tag: t, hash: h}
	} else {
		id = uint32(len(x.tags))
		x.tags = append(x.tags, tagInfo{tag: t, hash: h})
	}
	x.ids.insert(h, id)
	return id
}

// hash returns the hash of the set with tag ids ids: setHash of its tags' hashes.
func (x *Index[T]) hash(ids []uint32) uint32 {
	h := setHashStart
	for _, id := range ids {
		h = setHashStep(h, x.tags[id].hash)
	}
	return setHashEnd(h)
}

// setHash returns the hash of a set whose tags, in key order, have the hashes hs. The tag hashes
// are seeded, so mixing them is enough.
func setHash(hs []uint32) uint32 {
	h := setHashStart
	for _, t := range hs {
		h = setHashStep(h, t)
	}
	return setHashEnd(h)
}

// setHashStart, setHashStep and setHashEnd make setHash, one tag hash at a time.
const setHashStart uint32 = 0x9e3779b9

func setHashStep(h, t uint32) uint32 { return bits.RotateLeft32((h^t)*0x85ebca6b, 13) }

func setHashEnd(h uint32) uint32 { // murmur3's finalizer
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	return h ^ h>>16
}

// find returns the group whose set has the tag ids ids and the hash h.
func (x *Index[T]) find(ids []uint32, h uint32) (uint32, bool) {
	t := &x.sets
	if len(t.slots) == 0 {
		return 0, false
	}
	for i, mask := t.first(h); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if uint32(s>>32) != h {
			continue
		}
		gid := uint32(s) - 1
		if gids, _ := x.set(gid); slices.Equal(gids, ids) {
			return gid, true
		}
	}
}

// AppendTags appends the tags of the set named by h to dst and returns it, or dst unchanged for a
// Handle that names no set. The tags' strings are the index's interned copies, which never change:
// they may be kept after the entry is removed. Call it while h is valid (see Handle).
func (x *Index[T]) AppendTags(dst []Tag, h Handle) []Tag {
	x.mu.RLock()
	defer x.mu.RUnlock()
	gid := h.g - 1
	if h.g == 0 || int(gid) >= len(x.groups) || x.groups[gid].nvals == 0 {
		return dst
	}
	ids, _ := x.set(gid)
	for _, id := range ids {
		dst = append(dst, x.tags[id].tag)
	}
	return dst
}
