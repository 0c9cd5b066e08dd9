package tagindex

import "hash/maphash"

// longList is a value list longer than arenaVals, with the table that finds a value's position in
// it, so that removing a value from a group of a hundred thousand subscriptions costs O(1).
//
// The table is open-addressing with linear probing, like setTable, but its slots hold only a
// position in vals, plus one (0 for an empty slot): a probe compares the value at that position.
// At 4 bytes a slot and a load factor between 3/16 and 3/4 it costs 5 to 21 bytes per value, a
// quarter of a map[T]uint32.
type longList[T comparable] struct {
	vals  []T
	slots []uint32 // len is a power of two, at least 4/3 of len(vals)
}

// hashValue returns the hash of v under seed.
func hashValue[T comparable](seed maphash.Seed, v T) uint32 {
	return uint32(maphash.Comparable(seed, v))
}

// newLongList returns a long list holding vals, which it keeps.
func newLongList[T comparable](seed maphash.Seed, vals []T) longList[T] {
	l := longList[T]{vals: vals}
	l.rehash(seed)
	return l
}

// rehash sizes the table for the values and fills it.
func (l *longList[T]) rehash(seed maphash.Seed) {
	n := 16
	for n*3 < len(l.vals)*4*2 { // load about 3/8 after a rebuild
		n *= 2
	}
	l.slots = make([]uint32, n)
	mask := uint32(n - 1)
	for i, v := range l.vals {
		j := hashValue(seed, v) & mask
		for l.slots[j] != 0 {
			j = (j + 1) & mask
		}
		l.slots[j] = uint32(i) + 1
	}
}

// slot returns the slot of v, or -1 when v is not in the list.
func (l *longList[T]) slot(seed maphash.Seed, v T) int {
	mask := uint32(len(l.slots) - 1)
	for j := hashValue(seed, v) & mask; ; j = (j + 1) & mask {
		s := l.slots[j]
		if s == 0 {
			return -1
		}
		if l.vals[s-1] == v {
			return int(j)
		}
	}
}

// contains reports whether v is in the list.
func (l *longList[T]) contains(seed maphash.Seed, v T) bool { return l.slot(seed, v) >= 0 }

// add appends v, which must not be in the list.
func (l *longList[T]) add(seed maphash.Seed, v T) {
	l.vals = append(l.vals, v)
	if len(l.vals)*4 > len(l.slots)*3 {
		l.rehash(seed)
		return
	}
	mask := uint32(len(l.slots) - 1)
	j := hashValue(seed, v) & mask
	for l.slots[j] != 0 {
		j = (j + 1) & mask
	}
	l.slots[j] = uint32(len(l.vals))
}

// remove takes v out of the list, moving the last value into its place, and reports whether v
// was there.
func (l *longList[T]) remove(seed maphash.Seed, v T) bool {
	j := l.slot(seed, v)
	if j < 0 {
		return false
	}
	i := l.slots[j] - 1
	l.clearSlot(seed, uint32(j))
	last := uint32(len(l.vals) - 1)
	if i != last { // the last value moves to i: repoint its slot
		moved := l.vals[last]
		l.vals[i] = moved
		mask := uint32(len(l.slots) - 1)
		k := hashValue(seed, moved) & mask
		for l.slots[k] != last+1 {
			k = (k + 1) & mask
		}
		l.slots[k] = i + 1
	}
	var zero T
	l.vals[last] = zero
	l.vals = l.vals[:last]
	if len(l.slots) > 16 && len(l.vals)*16 < len(l.slots)*3 {
		if cap(l.vals) >= 4*len(l.vals) {
			l.vals = append([]T(nil), l.vals...) // give back memory
		}
		l.rehash(seed)
	}
	return true
}

// clearSlot empties slot j, shifting back the slots after it so that no probe sequence is broken.
func (l *longList[T]) clearSlot(seed maphash.Seed, j uint32) {
	mask := uint32(len(l.slots) - 1)
	for k := (j + 1) & mask; ; k = (k + 1) & mask {
		s := l.slots[k]
		if s == 0 {
			break
		}
		// The entry at k may move to the hole at j unless its home lies cyclically in (j, k].
		if home := hashValue(seed, l.vals[s-1]) & mask; (k-home)&mask >= (k-j)&mask {
			l.slots[j] = s
			j = k
		}
	}
	l.slots[j] = 0
}
