package main

import (
	"fmt"
	"math/rand/v2"
	"time"
)

const day = 24 * time.Hour

// catalogue is every generated case, grouped by the class of incident it stands for.
func catalogue() []kase {
	var out []kase
	out = append(out, leaks()...)
	out = append(out, slowGrowth()...)
	out = append(out, canaries()...)
	out = append(out, recoveries()...)
	out = append(out, failedVerifications()...)
	out = append(out, regressionsWithoutTarget()...)
	out = append(out, nearMisses()...)
	return out
}

// between is a random value in [a, b).
func between(r *rand.Rand, a, b float64) float64 { return a + (b-a)*r.Float64() }

// someGaps picks n missing minutes, or a missing stretch when stretch is set.
func someGaps(r *rand.Rand, n int, stretch bool) []int {
	var g []int
	if stretch {
		from := 40 + r.IntN(80)
		for i := range 6 + r.IntN(6) {
			g = append(g, from+i)
		}
		return g
	}
	for range n {
		g = append(g, 1+r.IntN(window-3))
	}
	return g
}

// old is an established two-revision history: revision num serves everything, num-1 before it.
func old(num int, age time.Duration, memory string) []rev {
	return []rev{
		{num: num, age: age, ready: true, percent: 100},
		{num: num - 1, age: age + 6*day, ready: true, memory: memory},
	}
}

// leaks: runbook cause 1 on a revision that has served for days; instances OOM-restart in a
// sawtooth every 20–90 minutes, drops are partial, some series have gaps, some logs are unreadable.
func leaks() []kase {
	type v struct {
		memory             string
		cycleMin, cycleMax int
		floor, creep, amp  float64
		logs               string
		gaps, alert        bool
	}
	vs := []v{
		{"1Gi", 20, 40, 0.45, 0.01, 0.01, "read", false, true},
		{"2Gi", 30, 60, 0.5, 0.0, 0.015, "read", true, true},
		{"2Gi", 45, 90, 0.4, 0.02, 0.02, "read", false, false},
		{"4Gi", 20, 90, 0.55, 0.01, 0.01, "read", true, true},
		{"1Gi", 25, 50, 0.5, 0.02, 0.02, "denied", false, true},
		{"2Gi", 40, 70, 0.35, 0.0, 0.01, "denied", true, false},
		{"512Mi", 20, 35, 0.6, 0.005, 0.015, "none", false, true},
		{"2Gi", 60, 90, 0.45, 0.03, 0.025, "none", true, true},
	}
	var out []kase
	for i, c := range vs {
		out = append(out, kase{name: fmt.Sprintf("leak-sawtooth-%d", i+1), gen: func(r *rand.Rand) scene {
			num := 30 + i
			t := newTrace(r)
			restarts := t.sawtooth(window, c.floor, c.creep, c.cycleMin, c.cycleMax)
			s := scene{
				memory: c.memory, cpu: "1", maxConc: 20, revs: old(num, time.Duration(3+i)*day, c.memory),
				mem: t.noise(c.amp).values(), req: requests(r, window, 600), logs: c.logs,
				kills: map[int][]int{num: restarts}, startedAgo: 6 * time.Minute,
			}
			if c.alert {
				s.alertRev = num
			}
			if c.gaps {
				s.gaps = someGaps(r, 8, i%2 == 1)
			}
			extra := ""
			if s.gaps != nil {
				extra += ", with missing minutes"
			}
			switch c.logs {
			case "denied":
				extra += "; the OOM-kill logs cannot be read"
			case "none":
				extra += "; no log evidence was captured"
			}
			s.readme = fmt.Sprintf("Runbook cause 1 (memory leak) on a %d-day-old revision at %s: instances climb to the limit and are OOM-killed every %d-%d minutes, partial drops%s. Runbook recovery Option A: restart with increased memory as a stopgap, and escalate for the code fix. Expect raise_memory, diagnosis gradual_growth, the backend lead paged at once.", 3+i, c.memory, c.cycleMin, c.cycleMax, extra)
			return s
		}})
	}
	return out
}

// slowGrowth: runbook causes 1 and 3 with no restart yet: a slow leak under noise, and caches
// that keep growing.
func slowGrowth() []kase {
	type v struct {
		name       string
		perHour    float64
		amp        float64
		end        float64
		gaps       bool
		cache      bool
		memory     string
		maxConc    int
		daysServed int
	}
	vs := []v{
		{"slow-growth-noise-1", 0.02, 0.02, 0.9, false, false, "2Gi", 80, 4},
		{"slow-growth-noise-2", 0.03, 0.03, 0.91, true, false, "2Gi", 40, 6},
		{"slow-growth-noise-3", 0.05, 0.025, 0.89, false, false, "1Gi", 20, 9},
		{"slow-growth-noise-4", 0.08, 0.03, 0.9, true, false, "4Gi", 80, 3},
		{"slow-growth-noise-5", 0.1, 0.02, 0.88, false, false, "2Gi", 20, 12},
		{"cache-growth-1", 0.12, 0.005, 0.88, false, true, "2Gi", 20, 5},
		{"cache-growth-2", 0.15, 0.008, 0.9, true, true, "1Gi", 20, 8},
		{"cache-growth-3", 0.09, 0.004, 0.87, false, true, "4Gi", 40, 14},
	}
	var out []kase
	for i, c := range vs {
		out = append(out, kase{name: c.name, gen: func(r *rand.Rand) scene {
			num := 50 + i
			start := c.end - c.perHour*3
			s := scene{
				memory: c.memory, cpu: "1", maxConc: c.maxConc, revs: old(num, time.Duration(c.daysServed)*day, c.memory),
				mem: newTrace(r).ramp(window, start, c.end).noise(c.amp).values(), req: requests(r, window, 900),
				startedAgo: 7 * time.Minute, alertRev: num, logs: "read",
			}
			if c.gaps {
				s.gaps = someGaps(r, 10, i%2 == 0)
			}
			what := fmt.Sprintf("Runbook cause 1 (memory leak): memory climbs %.2f of the limit an hour under ±%.3f noise", c.perHour, c.amp)
			if c.cache {
				what = fmt.Sprintf("Runbook cause 3 (cache not evicting): the cache grows %.2f of the limit an hour", c.perHour)
			}
			s.readme = fmt.Sprintf("%s on a %d-day-old revision, with no restart and no OOM kill yet. Runbook: a restart buys time and the code is fixed by people. Expect restart, diagnosis gradual_growth, escalation for the code fix.", what, c.daysServed)
			return s
		}})
	}
	return out
}
