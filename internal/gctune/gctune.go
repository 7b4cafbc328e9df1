// Package gctune sets the garbage collector for runmedic's processes. A decision allocates about
// 130 KB of short-lived values over a live heap of a few MiB, so with Go's default GOGC=100 the
// collector runs every few decisions and costs about a third of a decision's instructions.
// Collecting less often trades memory the process has to spare for latency; a memory limit
// under the container's keeps that trade inside the budget.
package gctune

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// DefaultPercent is the GOGC runmedic runs with unless GOGC is set: the heap may grow to five
// times what is live before a collection.
const DefaultPercent = 400

// LimitFraction of the container's memory is the soft limit set unless GOMEMLIMIT is set, so
// that a larger GOGC never takes the process to its container's limit: near it, the collector
// runs as often as it must.
const LimitFraction = 0.8

// CgroupMemoryMax is where Linux (cgroup v2, as Cloud Run's second generation runs) states the
// container's memory limit.
const CgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// Settings are what Apply chose. Zero fields were left as the runtime had them.
type Settings struct {
	Percent     int   // the GC percent set, 0 when GOGC was given
	MemoryLimit int64 // bytes, 0 when GOMEMLIMIT was given or no container limit is known
}

func (s Settings) String() string {
	gc, limit := "GOGC from the environment", "no memory limit"
	if s.Percent > 0 {
		gc = fmt.Sprintf("GOGC=%d", s.Percent)
	}
	if s.MemoryLimit > 0 {
		limit = fmt.Sprintf("GOMEMLIMIT=%dMiB", s.MemoryLimit>>20)
	}
	return gc + ", " + limit
}

// Choose decides the settings from the environment and the container's memory limit (the
// contents of CgroupMemoryMax, nil when it cannot be read). GOGC and GOMEMLIMIT, when set, are
// the runtime's to honour and are left alone.
func Choose(getenv func(string) string, cgroupMax []byte) Settings {
	var s Settings
	if getenv("GOGC") == "" {
		s.Percent = DefaultPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(cgroupMax)), 10, 64); err == nil && n > 0 {
			s.MemoryLimit = int64(float64(n) * LimitFraction)
		}
	}
	return s
}

// Apply sets s in the runtime. Call it once, at start-up, before the first decision.
func (s Settings) Apply() {
	if s.Percent > 0 {
		debug.SetGCPercent(s.Percent)
	}
	if s.MemoryLimit > 0 {
		debug.SetMemoryLimit(s.MemoryLimit)
	}
}

// Tune chooses the settings for this process (its environment through getenv, its container's
// limit from CgroupMemoryMax) and applies them. The function and `runmedic serve` call it at
// start-up.
func Tune(getenv func(string) string) Settings {
	b, _ := os.ReadFile(CgroupMemoryMax) // absent outside a container: no limit to keep under
	s := Choose(getenv, b)
	s.Apply()
	return s
}
