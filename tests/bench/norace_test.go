//go:build !race

package bench

// raceEnabled: the race detector multiplies memory and time, so RSS measurements skip under it.
const raceEnabled = false
