package handlers

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// routes maps keys to handlers by exact match or longest prefix. It is the
// table behind Mux and TopicMux. Writers take mu and publish a new
// immutable routeTable; readers only load the pointer, so a lookup takes no
// lock and allocates nothing. The zero value is empty and ready to use.
type routes[H any] struct {
	mu    sync.Mutex // serializes writers; readers never take it
	table atomic.Pointer[routeTable[H]]
}

// routeTable is one immutable version of a routes.
type routeTable[H any] struct {
	exact  map[string]H
	prefix map[string]H
	// lens holds the distinct lengths of the keys of prefix, longest first:
	// a lookup tries key[:n] for each n, so its cost follows the number of
	// distinct prefix lengths, not the number of prefixes.
	lens []int
}

// add registers h under key, as a prefix when isPrefix. It reports false,
// changing nothing, when key is already registered the same way.
func (r *routes[H]) add(key string, h H, isPrefix bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := &routeTable[H]{exact: map[string]H{}, prefix: map[string]H{}}
	if old := r.table.Load(); old != nil {
		t.exact = maps.Clone(old.exact)
		t.prefix = maps.Clone(old.prefix)
		t.lens = old.lens
	}
	dst := t.exact
	if isPrefix {
		dst = t.prefix
	}
	if _, dup := dst[key]; dup {
		return false
	}
	dst[key] = h
	if isPrefix && !slices.Contains(t.lens, len(key)) {
		t.lens = append(slices.Clone(t.lens), len(key))
		slices.SortFunc(t.lens, func(a, b int) int { return b - a })
	}
	r.table.Store(t)
	return true
}

// lookup returns the handler for key and the pattern it was registered
// under: the exact entry if any, else the longest matching prefix.
func (r *routes[H]) lookup(key string) (h H, pattern string, ok bool) {
	t := r.table.Load()
	if t == nil {
		return h, "", false
	}
	if h, ok := t.exact[key]; ok {
		return h, key, true
	}
	for _, n := range t.lens {
		if n > len(key) {
			continue
		}
		if h, ok := t.prefix[key[:n]]; ok {
			return h, key[:n], true
		}
	}
	return h, "", false
}

// keys returns the registered exact keys and prefixes, each sorted.
func (r *routes[H]) keys() (exact, prefixes []string) {
	t := r.table.Load()
	if t == nil {
		return nil, nil
	}
	return slices.Sorted(maps.Keys(t.exact)), slices.Sorted(maps.Keys(t.prefix))
}
