//go:build !amd64

package tagindex

import "unsafe"

// prefetch is a no-op where tagindex has no assembly: Match is correct without it, only slower
// at a million subscriptions (see Index.scan).
func prefetch(base unsafe.Pointer, size uintptr, idx []uint32) {}
