package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

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
			change := snapshot.Change{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}
			if c.action == "restart" {
				memory, before = "2Gi", "2Gi"
				change = snapshot.Change{Path: snapshot.PathRestart, Before: snapshot.TextValue(""), After: snapshot.TextValue("2026-03-02T11:30:00Z")}
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
					Changes: []snapshot.Change{change}, Outcome: snapshot.OutcomeApplied, Revision: fmt.Sprint("#", num)}},
			}
			s.readme = fmt.Sprintf("runmedic's %s for this incident landed %d minutes ago; the 10-minute verification window has passed with memory still above 80 %%, and Monitoring re-notifies. Runbook escalation table: not recovering after the fix, page people. Expect escalate.", c.action, c.agoMin)
			return s
		}})
	}
	return out
}
