//go:build race

package protocol

// raceEnabled reports whether the race detector is on; it makes
// allocations, so the zero-allocation assertions are skipped under it.
const raceEnabled = true
