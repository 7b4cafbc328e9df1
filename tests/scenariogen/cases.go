package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
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

// canaries: runbook causes 1 and 5 shipped in a revision that takes part of the traffic.
func canaries() []kase {
	type v struct {
		canaryPct int
		ageMin    int
		alertOn   string // "canary", "stable", ""
		perRev    bool
		middle    bool // a third revision between the stable one and the canary
		logs      string
	}
	vs := []v{
		{10, 60, "canary", true, false, "read"},
		{20, 45, "stable", true, false, "read"},
		{50, 90, "", true, false, "none"},
		{10, 75, "canary", false, false, "none"},
		{20, 50, "", true, true, "read"},
		{10, 80, "stable", true, true, "denied"},
	}
	var out []kase
	for i, c := range vs {
		out = append(out, kase{name: fmt.Sprintf("canary-leak-%d", i+1), gen: func(r *rand.Rand) scene {
			canary, stable := 72+i, 70+i
			revs := []rev{{num: canary, age: time.Duration(c.ageMin) * time.Minute, ready: true, percent: c.canaryPct}}
			split := []snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: fmt.Sprint("#", canary), Percent: c.canaryPct}}
			stablePct := 100 - c.canaryPct
			if c.middle {
				revs = append(revs, rev{num: canary - 1, age: 2 * day, ready: true, percent: 20})
				split = append(split, snapshot.TrafficTarget{Type: snapshot.TrafficRevision, Revision: fmt.Sprint("#", canary-1), Percent: 20})
				stablePct -= 20
			}
			revs = append(revs, rev{num: stable, age: 8 * day, ready: true, percent: stablePct})
			split = append(split, snapshot.TrafficTarget{Type: snapshot.TrafficRevision, Revision: fmt.Sprint("#", stable), Percent: stablePct})
			base := between(r, 0.5, 0.62)
			st := newTrace(r).flat(window, base).noise(0.01).values()
			cn := newTrace(r).ramp(c.ageMin, between(r, 0.3, 0.45), between(r, 0.9, 0.96)).noise(0.01).values()
			s := scene{
				memory: "2Gi", cpu: "1", maxConc: 40, revs: revs, split: split,
				mem: maxOf(st, cn), req: requests(r, window, 1500), logs: c.logs, startedAgo: 8 * time.Minute,
			}
			if c.perRev {
				s.byRev = map[int][]float64{stable: st, canary: cn}
				if c.middle {
					s.byRev[canary-1] = newTrace(r).flat(window, base+0.03).noise(0.01).values()
				}
			}
			if c.logs == "read" {
				s.kills = map[int][]int{canary: {window - 3}}
			}
			switch c.alertOn {
			case "canary":
				s.alertRev = canary
			case "stable":
				s.alertRev = stable
			}
			where := "the alert names the canary"
			switch {
			case c.alertOn == "stable":
				where = "the alert names the stable revision"
			case c.alertOn == "":
				where = "the alert grouped revisions away"
			}
			series := "per-revision memory series"
			if !c.perRev {
				series = "only the service's memory series"
			}
			s.readme = fmt.Sprintf("Runbook causes 1 and 5 (a leak shipped in a new revision): a %d-minute-old canary at %d %% of traffic climbs to the limit while the week-old revision stays flat; %s, %s. Runbook recovery Option B: roll back, 100 %% of traffic to the stable Ready revision. Expect rollback, diagnosis regression.", c.ageMin, c.canaryPct, where, series)
			return s
		}})
	}
	return out
}

// recoveries: memory was high, fell below verify_below more than ten minutes ago, and the alert
// (Monitoring lags) arrives now. Runbook Step 5: that is recovery.
func recoveries() []kase {
	var out []kase
	for i, below := range []int{14, 22, 35, 48} {
		out = append(out, kase{name: fmt.Sprintf("recovered-before-alert-%d", i+1), gen: func(r *rand.Rand) scene {
			num := 90 + i
			high := between(r, 0.87, 0.93)
			low := between(r, 0.55, 0.74)
			t := newTrace(r).flat(60, 0.6).ramp(window-60-below, 0.62, high)
			if i%2 == 1 {
				t.ramp(4, low-0.12, low).flat(below-4, low) // instances recycled: a sudden drop, then a short warm-up
			} else {
				t.ramp(3, high-0.05, low).flat(below-3, low)
			}
			s := scene{
				memory: "2Gi", cpu: "1", maxConc: 40, revs: old(num, time.Duration(2+i)*day, "2Gi"),
				mem: t.noise(0.01).values(), req: requests(r, window, 800), alertRev: num,
				startedAgo: time.Duration(below-4) * time.Minute, logs: []string{"read", "none", "denied", "read"}[i],
			}
			s.readme = fmt.Sprintf("Memory peaked at %.0f %% and has been below 80 %% for the last %d minutes; Monitoring's lag delivers the alert now. Runbook Step 5 (verify recovery): stable below 80 %% for 10 minutes is recovery. Expect none, diagnosis recovered, nobody paged.", high*100, below)
			return s
		}})
	}
	return out
}

// failedVerifications: Monitoring re-notifies the open incident after runmedic's change for it,
// whose 10-minute verification window has passed with memory still high.
func failedVerifications() []kase {
	type v struct {
		action  string
		agoMin  int
		leakNow bool
	}
	vs := []v{{"raise_memory", 25, false}, {"raise_memory", 40, true}, {"restart", 30, true}, {"raise_memory", 55, false}}
	var out []kase
	for i, c := range vs {
		out = append(out, kase{name: fmt.Sprintf("failed-verification-%d", i+1), gen: func(r *rand.Rand) scene {
			num := 110 + i
			ago := time.Duration(c.agoMin) * time.Minute
			memory, before := "4Gi", "2Gi"
			change := snapshot.Change{Path: snapshot.PathMemory, Before: "2Gi", After: "4Gi"}
			if c.action == "restart" {
				memory, before = "2Gi", "2Gi"
				change = snapshot.Change{Path: snapshot.PathRestart, Before: "", After: "2026-03-02T11:30:00Z"}
			}
			revs := []rev{
				{num: num, age: ago, ready: true, percent: 100},
				{num: num - 1, age: 6 * day, ready: true, memory: before},
			}
			pre := newTrace(r).flat(window-c.agoMin-70, 0.7).ramp(70, 0.72, 0.93)
			if c.leakNow {
				pre.ramp(c.agoMin, 0.6, 0.9)
			} else {
				pre.ramp(4, 0.9, 0.86).flat(c.agoMin-4, 0.87)
			}
			s := scene{
				memory: memory, cpu: "2", maxConc: 40, revs: revs, mem: pre.noise(0.01).values(),
				req: requests(r, window, 1000), alertRev: num, startedAgo: ago + 12*time.Minute, logs: "none",
				history: []snapshot.Action{{Incident: thisIncident, Action: c.action, At: capturedAt.Add(-ago),
					Changes: []snapshot.Change{change}, Outcome: "applied", Revision: fmt.Sprint("#", num)}},
			}
			s.readme = fmt.Sprintf("runmedic's %s for this incident landed %d minutes ago; the 10-minute verification window has passed with memory still above 80 %%, and Monitoring re-notifies. Runbook escalation table: not recovering after the fix, page people. Expect escalate.", c.action, c.agoMin)
			return s
		}})
	}
	return out
}

// regressionsWithoutTarget: a new revision leaks and there is no Ready revision to return to.
func regressionsWithoutTarget() []kase {
	type v struct {
		why      string // "not-ready" or "condemned"
		ageMin   int
		restarts bool
	}
	vs := []v{{"not-ready", 150, false}, {"condemned", 120, false}, {"not-ready", 170, true}, {"condemned", 100, false}}
	var out []kase
	for i, c := range vs {
		out = append(out, kase{name: fmt.Sprintf("regression-no-target-%d", i+1), gen: func(r *rand.Rand) scene {
			num := 130 + i
			revs := []rev{{num: num, age: time.Duration(c.ageMin) * time.Minute, ready: true, percent: 100}}
			s := scene{memory: "2Gi", cpu: "1", maxConc: 40, req: requests(r, window, 700), alertRev: num, startedAgo: 9 * time.Minute, logs: "none"}
			switch c.why {
			case "not-ready":
				revs = append(revs, rev{num: num - 1, age: time.Duration(c.ageMin+20) * time.Minute, ready: false}, rev{num: num - 2, age: time.Duration(c.ageMin+45) * time.Minute, ready: false})
			case "condemned":
				revs = append(revs, rev{num: num - 1, age: 4 * day, ready: true})
				s.history = []snapshot.Action{{Incident: "0.earlier", Action: "rollback", At: capturedAt.Add(-2 * day),
					Outcome: "failed", Revision: fmt.Sprint("#", num-1),
					Changes: []snapshot.Change{{Path: snapshot.PathTraffic, Before: []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}},
						After: []snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: fmt.Sprint("#", num-2), Percent: 100}}}}}}
			}
			s.revs = revs
			t := newTrace(r).flat(window-c.ageMin, 0.45)
			if c.restarts {
				restarts := t.sawtooth(c.ageMin, 0.4, 0.03, 25, 40)
				s.kills = map[int][]int{num: restarts}
				s.logs = "read"
			} else {
				t.ramp(c.ageMin, 0.46, between(r, 0.88, 0.94))
			}
			s.mem = t.noise(0.01).values()
			nothing := "the revisions before it never became Ready"
			if c.why == "condemned" {
				nothing = "the only earlier revision failed before and is recorded as bad"
			}
			s.readme = fmt.Sprintf("Runbook cause 1 (a leak in new code) in a %d-minute-old revision, but %s: there is nothing to roll back to. Runbook: restart (or restart with more memory) to buy time and escalate for the code fix. Expect the leak path, never a rollback or a plain raise reported as the fix.", c.ageMin, nothing)
			return s
		}})
	}
	return out
}

// nearMisses are incidents that look like the classes above and are not: the answers that must
// not change.
func nearMisses() []kase {
	return []kase{
		{"flat-high-1", func(r *rand.Rand) scene {
			return flatHigh(r, 150, 0.01, "2Gi", "Runbook cause 2 (insufficient allocation): load rose 70 minutes ago and memory sits flat at 92 % with small noise. Expect raise_memory one step, diagnosis insufficient_memory.", 0.92, 110)
		}},
		{"flat-high-noisy", func(r *rand.Rand) scene {
			return flatHigh(r, 151, 0.03, "1Gi", "Runbook cause 2 (insufficient allocation): memory has sat at 90 % ±3 % for three hours; noise is not a trend. Expect raise_memory one step, diagnosis insufficient_memory.", 0.9, 0)
		}},
		{"flat-oom-kills", func(r *rand.Rand) scene {
			s := flatHigh(r, 152, 0.01, "2Gi", "Runbook cause 2 under load: memory flat at 95 %, instances OOM-killed now and then and back at once (no climb); the logs show the kills. Expect raise_memory to a step that holds the largest used with 20 % headroom.", 0.95, 0)
			s.mem[100], s.mem[140], s.mem[170] = 0.5, 0.52, 0.48
			s.kills, s.logs = map[int][]int{152: {99, 139, 169}}, "read"
			return s
		}},
		{"oom-used-beyond-step", func(r *rand.Rand) scene {
			s := flatHigh(r, 153, 0.01, "2Gi", "Runbook cause 2 under load: flat at 96 % with OOM kills whose largest used is far beyond 2Gi. The runbook sizes the new limit from the measurement. Expect raise_memory past 4Gi, to a step that holds 3600 MiB × 1.2, with the CPU it needs.", 0.96, 0)
			s.mem[120], s.mem[160] = 0.45, 0.5
			s.kills, s.logs = map[int][]int{153: {119, 159}}, "read"
			s.fixedUsed = 3600
			return s
		}},
		{"flat-high-logs-denied", func(r *rand.Rand) scene {
			s := flatHigh(r, 154, 0.015, "1Gi", "Runbook cause 2 (insufficient allocation) with the OOM-kill logs unreadable (permission denied): the decision is made from metrics and says the logs were unavailable. Expect raise_memory one step.", 0.91, 80)
			s.logs = "denied"
			return s
		}},
		{"request-burst", func(r *rand.Rand) scene {
			s := flatHigh(r, 155, 0.01, "2Gi", "Runbook cause 4 (large request bodies): memory jumps with a burst of requests in the last 10 minutes, no trend before it. Expect lower_concurrency to the safe value.", 0.6, 0)
			for i := window - 10; i < window; i++ {
				s.mem[i] = round3(between(r, 0.86, 0.93))
				s.req[i] = float64(3000 + r.IntN(400))
			}
			s.maxConc = 80
			return s
		}},
		{"young-revision-high-before", func(r *rand.Rand) scene {
			s := flatHigh(r, 156, 0.01, "2Gi", "A revision deployed 3 hours ago, but memory was already at 89 % before it took traffic: not a regression. Runbook cause 2. Expect raise_memory, no rollback.", 0.89, 0)
			s.revs[0].age = 3 * time.Hour
			return s
		}},
		{"acted-awaiting-verification", func(r *rand.Rand) scene {
			s := flatHigh(r, 157, 0.01, "4Gi", "runmedic raised memory for this incident 4 minutes ago; Monitoring re-notifies inside the verification window. Runbook Step 5 is still running: expect none, no second change.", 0.88, 0)
			s.history = []snapshot.Action{{Incident: thisIncident, Action: "raise_memory", At: capturedAt.Add(-4 * time.Minute), Outcome: "applied", Revision: "#157",
				Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: "2Gi", After: "4Gi"}}}}
			s.revs[0].age = 4 * time.Minute
			s.revs[1].memory = "2Gi"
			s.cpu = "2"
			return s
		}},
		{"ceiling-flat", func(r *rand.Rand) scene {
			return flatHigh(r, 158, 0.01, "8Gi", "Runbook cause 2 at the configured memory ceiling (8Gi): no step is left. Expect escalate.", 0.93, 60)
		}},
		{"spikes-on-flat", func(r *rand.Rand) scene {
			s := flatHigh(r, 159, 0.01, "2Gi", "Memory flat at 88 % with two one-minute spikes to the limit that fall straight back: restarts with no climb, not a leak. Runbook cause 2. Expect raise_memory one step.", 0.88, 0)
			s.mem[90], s.mem[150] = 1, 1
			return s
		}},
	}
}

// flatHigh is an old revision whose memory sits at level (after a step up stepAgo minutes
// before the end, when stepAgo > 0) with noise amp.
func flatHigh(r *rand.Rand, num int, amp float64, memory, readme string, level float64, stepAgo int) scene {
	t := newTrace(r)
	if stepAgo > 0 {
		t.flat(window-stepAgo, level-0.3).ramp(4, level-0.3, level).flat(stepAgo-4, level)
	} else {
		t.flat(window, level)
	}
	cpu := "1"
	if memory == "8Gi" {
		cpu = "2"
	}
	return scene{
		readme: readme, memory: memory, cpu: cpu, maxConc: 20, revs: old(num, 5*day, memory),
		mem: t.noise(amp).values(), req: requests(r, window, 1000), alertRev: num,
		startedAgo: 10 * time.Minute, logs: "read",
	}
}
