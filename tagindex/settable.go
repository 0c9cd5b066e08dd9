package tagindex

// setTable finds a group by its set, or a tag id by its tag: an open-addressing hash table with
// linear probing, whose slots hold an id and 32 bits of the key's hash (Index looks the key up by
// the id to compare). The slot's hash bits also give its home slot, so
// that probing, deletion (backward shift) and growth never touch the groups themselves, and a
// probe reads a group only when its hash bits match. At 8 bytes a slot and a load factor between
// 3/16 and 3/4, it costs 11 to 43 bytes per distinct set, about half of a Go map.
type setTable struct {
	slots []uint64 // hash<<32 | group id+1; 0 for an empty slot; len is 0 or a power of two
	count int
}

// slot packs a set's hash and a group id into a slot.
func slot(h uint32, gid uint32) uint64 { return uint64(h)<<32 | uint64(gid+1) }

// first returns the first slot to probe for hash h, and the mask of slot indexes.
func (t *setTable) first(h uint32) (i, mask uint32) {
	mask = uint32(len(t.slots) - 1)
	return h & mask, mask
}

// insert adds group gid with hash h; it must not be in the table.
func (t *setTable) insert(h uint32, gid uint32) {
	if (t.count+1)*4 > len(t.slots)*3 {
		t.resize(max(16, 2*len(t.slots)))
	}
	for i, mask := t.first(h); ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = slot(h, gid)
			t.count++
			return
		}
	}
}

// remove deletes group gid with hash h, which must be in the table, shifting back the slots after
// it so that no probe sequence is broken.
func (t *setTable) remove(h uint32, gid uint32) {
	want := slot(h, gid)
	i, mask := t.first(h)
	for t.slots[i] != want {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := t.slots[j]
		if s == 0 {
			break
		}
		// The entry at j may move to the hole at i unless its home lies cyclically in (i, j].
		if home := uint32(s>>32) & mask; (j-home)&mask >= (j-i)&mask {
			t.slots[i] = s
			i = j
		}
	}
	t.slots[i] = 0
	t.count--
	if len(t.slots) > 1024 && t.count*16 < len(t.slots)*3 {
		t.resize(len(t.slots) / 2)
	}
}

// resize moves the table to n slots.
func (t *setTable) resize(n int) {
	old := t.slots
	t.slots = make([]uint64, n)
	mask := uint32(n - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := uint32(s>>32) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
