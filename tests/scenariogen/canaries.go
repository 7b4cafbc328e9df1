package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

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
			// Monitoring's service series is the maximum over its revisions' series.
			mem := maxOf(st, cn)
			var mid []float64
			if c.middle {
				mid = newTrace(r).flat(window, base+0.03).noise(0.01).values()
				mem = maxOf(mem, mid)
			}
			s := scene{
				memory: "2Gi", cpu: "1", maxConc: 40, revs: revs, split: split,
				mem: mem, req: requests(r, window, 1500), logs: c.logs, startedAgo: 8 * time.Minute,
			}
			if c.perRev {
				s.byRev = map[int][]float64{stable: st, canary: cn}
				if c.middle {
					s.byRev[canary-1] = mid
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
					Outcome: snapshot.OutcomeFailed, Revision: fmt.Sprint("#", num-1),
					Changes: []snapshot.Change{{Path: snapshot.PathTraffic, Before: snapshot.TrafficValue([]snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}}),
						After: snapshot.TrafficValue([]snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: fmt.Sprint("#", num-2), Percent: 100}})}}}}
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
