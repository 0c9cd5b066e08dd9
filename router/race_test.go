//go:build race

package router

// raceEnabled reports whether the race detector is on (allocation counts
// are not asserted then).
const raceEnabled = true
