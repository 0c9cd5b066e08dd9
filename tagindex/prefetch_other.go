//go:build !amd64 || purego

package tagindex

import "unsafe"

// prefetch is a no-op where tagindex has no assembly (or with -tags purego): Match is correct without it, only slower
// at a million subscriptions (see Index.scan).
func prefetch(base unsafe.Pointer, size uintptr, idx []uint32) {}
