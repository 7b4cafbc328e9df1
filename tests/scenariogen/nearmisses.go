package main

import (
	"math/rand/v2"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

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
			s.history = []snapshot.Action{{Incident: thisIncident, Action: "raise_memory", At: capturedAt.Add(-4 * time.Minute), Outcome: snapshot.OutcomeApplied, Revision: "#157",
				Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}}}
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
