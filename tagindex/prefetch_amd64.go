//go:build !purego

package tagindex

import "unsafe"

// prefetch asks the CPU to start loading the cache line at base+size*i for each i in idx, and
// returns without waiting for the loads (PREFETCHT0). The addresses need not be valid: a prefetch
// never faults. See Index.scan for why.
//
//go:noescape
func prefetch(base unsafe.Pointer, size uintptr, idx []uint32)
