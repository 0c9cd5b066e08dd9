package tagindex

import (
	"math/bits"
	"slices"
	"unsafe"
)

// This file holds the write side of Index: groups, value lists, blocks and posting lists. Every
// function here assumes x.mu is held for writing.

// newGroup adds a group for the set with tag ids ids and hash h, holding the value v, and returns
// its id.
func (x *Index[T]) newGroup(ids []uint32, h uint32, v T) uint32 {
	var gid uint32
	if k := len(x.freeGroups); k > 0 {
		gid = x.freeGroups[k-1]
		x.freeGroups = x.freeGroups[:k-1]
	} else {
		gid = uint32(len(x.groups))
		x.groups = grow(x.groups)
		x.gpos = grow(x.gpos)
	}
	n := uint32(len(ids))
	g := &x.groups[gid]
	*g = group[T]{one: v, nvals: 1, ids: [inlineTags]uint32{noTag, noTag, noTag, noTag}}
	var pos []uint32
	if n <= inlineTags {
		copy(g.ids[:], ids)
		pos = x.gpos[gid][:n]
	} else {
		off := x.allocBlock(n)
		g.ids = [inlineTags]uint32{spilled, off, n, noTag}
		copy(x.blocks[off:], ids)
		pos = x.blocks[off+n : off+2*n]
	}
	for i, id := range ids {
		ti := &x.tags[id]
		pos[i] = uint32(len(ti.posting))
		ti.posting = append(ti.posting, gid)
	}
	x.sets.insert(h, gid)
	return gid
}

// preloadPostings reads what dropGroup will change in the posting lists of group gid's set, whose
// tag ids are ids at positions pos: the posting list of each tag, the entry of gid in it and the
// last entry, which will move into its place. At a million subscriptions each of these is a cache
// miss; read one tag after the other, as dropGroup writes, they add up, while read here in steps
// over all the tags together, they overlap. It also checks that the posting lists name gid.
func (x *Index[T]) preloadPostings(gid uint32, ids, pos []uint32) {
	if len(ids) > internBatch {
		return
	}
	var posting [internBatch][]uint32
	for i, id := range ids {
		posting[i] = x.tags[id].posting
	}
	bad := false
	var moved [internBatch]uint32
	for i, post := range posting[:len(ids)] {
		bad = bad || post[pos[i]] != gid
		moved[i] = post[len(post)-1]
	}
	if bad {
		panic("tagindex: a posting list lost its position")
	}
	// The records and positions of the moved groups, which dropGroup updates.
	prefetch(unsafe.Pointer(unsafe.SliceData(x.groups)), unsafe.Sizeof(x.groups[0]), moved[:len(ids)])
	prefetch(unsafe.Pointer(unsafe.SliceData(x.gpos)), unsafe.Sizeof(x.gpos[0]), moved[:len(ids)])
}

// grow returns s with one more, zero, element. Unlike append, it grows a long slice by an eighth
// rather than a quarter, so that the group arrays, the largest of the index, keep less room
// unused (the copies cost a few ns per group, amortized).
func grow[E any](s []E) []E {
	if len(s) < cap(s) {
		return s[:len(s)+1]
	}
	t := make([]E, len(s)+1, len(s)+max(len(s)/8, 64))
	copy(t, s)
	return t
}

// dropGroup removes the empty group gid from the set table and from its tags' posting lists, and
// frees its slot and block. Tags left with no group are forgotten.
func (x *Index[T]) dropGroup(gid uint32) {
	ids, pos := x.set(gid)
	x.preloadPostings(gid, ids, pos)
	x.sets.remove(x.hash(ids), gid)
	for i, id := range ids {
		ti := &x.tags[id]
		at, last := pos[i], uint32(len(ti.posting)-1)
		if moved := ti.posting[last]; at != last {
			ti.posting[at] = moved
			mids, mpos := x.set(moved)
			mpos[slices.Index(mids, id)] = at
		}
		ti.posting = ti.posting[:last]
		switch {
		case last == 0:
			x.ids.remove(x.tagHash(ti.tag), id)
			*ti = tagInfo{}
			x.freeTags = append(x.freeTags, id)
		case cap(ti.posting) >= 64 && int(last) < cap(ti.posting)/4:
			ti.posting = append([]uint32(nil), ti.posting...) // give back memory
		}
	}
	g := &x.groups[gid]
	if g.ids[0] == spilled {
		x.freeBlock(g.ids[1], g.ids[2])
	}
	*g = group[T]{}
	x.freeGroups = append(x.freeGroups, gid)
}

// values returns the value list of g, of two values or more. The slice aliases x.vals or x.long:
// it is valid until either changes.
func (x *Index[T]) values(g *group[T]) []T {
	if g.nvals <= arenaVals {
		return x.vals[g.vals : g.vals+g.nvals]
	}
	return x.long[g.vals].vals
}

// valClass returns the capacity class in the vals arena of a list of n values, 2 <= n <= arenaVals:
// class c holds 2<<c values.
func valClass(n uint32) int { return bits.Len32(n-1) - 1 }

// addValue adds v to group gid and reports whether it was absent.
func (x *Index[T]) addValue(gid uint32, v T) bool {
	g := &x.groups[gid]
	var zero T
	n := g.nvals
	switch {
	case n == 1:
		if g.one == v {
			return false
		}
		off := x.allocVals(0)
		x.vals[off], x.vals[off+1] = g.one, v
		g.one, g.vals = zero, off
	case n < arenaVals:
		list := x.vals[g.vals : g.vals+n]
		if slices.Contains(list, v) {
			return false
		}
		if n&(n-1) == 0 { // full: move to the next class
			off := x.allocVals(valClass(n + 1))
			old := x.vals[g.vals : g.vals+n] // not list: allocVals may have moved x.vals
			copy(x.vals[off:], old)
			clear(old)
			x.freeVal(g.vals, valClass(n))
			g.vals = off
		}
		x.vals[g.vals+n] = v
	case n == arenaVals: // leave the arena
		list := x.vals[g.vals : g.vals+n]
		if slices.Contains(list, v) {
			return false
		}
		long := make([]T, n+1, 2*n)
		copy(long, list)
		long[n] = v
		clear(list)
		x.freeVal(g.vals, valClass(n))
		g.vals = x.newLong(newLongList(x.seed, long))
	default:
		l := &x.long[g.vals]
		if l.contains(x.seed, v) {
			return false
		}
		l.add(x.seed, v)
	}
	g.nvals = n + 1
	return true
}

// removeValue removes v from group gid. ok reports whether v was there, empty whether the group is
// now empty (its single value was v); an empty group is left for the caller to drop.
func (x *Index[T]) removeValue(gid uint32, v T) (empty, ok bool) {
	g := &x.groups[gid]
	n := g.nvals
	switch {
	case n == 0:
		return false, false
	case n == 1:
		return g.one == v, g.one == v
	case n > arenaVals:
		l := &x.long[g.vals]
		if !l.remove(x.seed, v) {
			return false, false
		}
		if n-1 == arenaVals { // back to the arena
			off := x.allocVals(valClass(n - 1))
			copy(x.vals[off:], l.vals)
			*l = longList[T]{}
			x.freeLong = append(x.freeLong, g.vals)
			g.vals = off
		}
		g.nvals = n - 1
		return false, true
	}
	list := x.vals[g.vals : g.vals+n]
	i := slices.Index(list, v)
	if i < 0 {
		return false, false
	}
	var zero T
	n-- // values left
	list[i] = list[n]
	list[n] = zero
	switch {
	case n == 1: // back inline
		g.one = list[0]
		list[0] = zero
		x.freeVal(g.vals, 0)
	case n&(n-1) == 0: // half full: move to the smaller class
		off := x.allocVals(valClass(n))
		old := x.vals[g.vals : g.vals+n] // not list: allocVals may have moved x.vals
		copy(x.vals[off:], old)
		clear(old)
		x.freeVal(g.vals, valClass(n+1))
		g.vals = off
	}
	g.nvals = n
	return false, true
}

// newLong stores a value list longer than arenaVals and returns its index in x.long.
func (x *Index[T]) newLong(l longList[T]) uint32 {
	if k := len(x.freeLong); k > 0 {
		i := x.freeLong[k-1]
		x.freeLong = x.freeLong[:k-1]
		x.long[i] = l
		return i
	}
	x.long = append(x.long, l)
	return uint32(len(x.long) - 1)
}

// allocVals returns the offset in x.vals of a free value list of class c (2<<c values).
func (x *Index[T]) allocVals(c int) uint32 {
	if k := len(x.freeVals[c]); k > 0 {
		off := x.freeVals[c][k-1]
		x.freeVals[c] = x.freeVals[c][:k-1]
		return off
	}
	off := uint32(len(x.vals))
	x.vals = append(x.vals, make([]T, 2<<c)...)
	return off
}

// freeVal returns the value list of class c at off, whose values have been cleared, to its free
// list.
func (x *Index[T]) freeVal(off uint32, c int) {
	x.freeVals[c] = append(x.freeVals[c], off)
}

// allocBlock returns the offset in x.blocks of a free block for a set of n tags (2n words).
func (x *Index[T]) allocBlock(n uint32) uint32 {
	var free []uint32
	if n < smallBlocks {
		free = x.freeSmall[n]
	} else {
		free = x.freeLarge[n]
	}
	if k := len(free); k > 0 {
		off := free[k-1]
		if n < smallBlocks {
			x.freeSmall[n] = free[:k-1]
		} else {
			x.freeLarge[n] = free[:k-1]
		}
		return off
	}
	off := uint32(len(x.blocks))
	x.blocks = append(x.blocks, make([]uint32, 2*n)...)
	return off
}

// freeBlock returns the block at off, for a set of n tags, to its free list.
func (x *Index[T]) freeBlock(off, n uint32) {
	if n < smallBlocks {
		x.freeSmall[n] = append(x.freeSmall[n], off)
		return
	}
	if x.freeLarge == nil {
		x.freeLarge = make(map[uint32][]uint32)
	}
	x.freeLarge[n] = append(x.freeLarge[n], off)
}
