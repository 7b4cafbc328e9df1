package signals

import (
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// DefaultThreshold is the runbook's alert line, used when the defaults carry no memory_threshold
// (a config built in Go; a loaded config always has one).
const DefaultThreshold = 0.85

// Compute derives the signals of s. It is pure: "now" is s.CapturedAt, so a fixture yields the
// same signals forever. It fails only on quantities it cannot read (the service template's memory
// or CPU, the configured steps or ceiling), naming the field; missing data is never an error, it
// yields the "unknown" value of each signal.
func Compute(s snapshot.Snapshot, d config.Defaults) (Signals, error) {
	now := s.CapturedAt
	var sig Signals

	sig.OOM = oomFacts(s.Logs, now)
	lim, err := computeLimits(s.Service.Template, d, sig.OOM.fitMiB())
	if err != nil {
		return Signals{}, err
	}
	sig.MemoryLimitMiB = lim.memoryMiB
	sig.CPULimit = float64(lim.cpuMilli) / 1000
	sig.NextMemoryStep = lim.nextStep
	sig.NextMemoryStepCPU = lim.nextStepCPU
	sig.SafeConcurrency = safeConcurrency(lim.memoryMiB)

	mem := newSeries(s.Metrics.MemoryUtilization)
	// The config's line, never the incident's threshold_value: the alert is a trigger, not the
	// truth, and a notification claiming 0.1 must not make healthy memory count as high.
	threshold := DefaultThreshold
	if d.MemoryThreshold > 0 {
		threshold = d.MemoryThreshold
	}
	sig.Threshold = threshold
	if n := mem.len(); n > 0 {
		sig.HasMemoryData = true
		sig.MemoryNow = mem.val[n-1]
		sig.MemoryMax = mem.max()
		sig.MemorySlopePerHour = mem.slopePerHour()
		sig.RisingMinutes = mem.risingMinutes()
		sig.MinutesAboveThreshold = mem.minutesAbove(threshold)
	}
	g := mem.growth()
	sig.Resets = g.cycles.resets
	sig.Trend = Trend{
		MemoryNoise: g.noise, MemoryTrendPerHour: g.trend, GrowthMinutes: g.minutes,
		GrowthPerHour: g.perHour, MemoryPlateau: g.plateau, MinutesToLimit: g.toLimit,
	}
	sig.Cycles = Cycles{
		CycleGrowthPerHour: g.cycles.growthPerHour, CycleMinutesToLimit: g.cycles.minutesToLimit,
		GrowthAcrossRestarts: g.cycles.acrossRestarts,
	}
	if mem.len() > 0 {
		sig.Cycles.Cycles = g.cycles.resets + 1
	}
	sig.Verification = verification(s, mem, g.climbing, d.VerifyBelow, d.VerifyAfter.Duration)
	sig.RequestSpike = requestSpike(newSeries(s.Metrics.RequestCount), sig.RisingMinutes)

	sig.ServingRevision = servingRevision(s)
	sig.TrafficPinned = trafficPinned(s.Service.Traffic)
	sig.ServingRevisionAgeMinutes = -1
	sig.MemoryBeforeServing = -1
	bad := badRevisions(s.Revisions, s.History)
	if rev, ok := findRevision(s.Revisions, sig.ServingRevision); ok {
		sig.ServingRevisionAgeMinutes = max(0, minutes(now.Sub(rev.CreatedAt)))
		sig.MemoryBeforeServing = mem.meanBefore(rev.CreatedAt)
		sig.PreviousReadyRevision = previousReady(s.Revisions, rev, bad)
	}
	sig.Serving = Serving{
		AlertRevision:             s.Incident.Revision,
		ServingRevisions:          describeServing(s, mem, g),
		SuspectRevisionAgeMinutes: -1, MemoryBeforeSuspect: -1,
	}
	if r, by := suspect(sig.ServingRevisions, s.Incident.Revision, d.RegressionWindow.Duration, sig.OOMKillsByRevision); by != "" {
		sig.SuspectRevision, sig.SuspectBy = r.Name, by
		sig.SuspectRevisionAgeMinutes, sig.SuspectPercent = r.AgeMinutes, r.Percent
		sig.MemoryBeforeSuspect, sig.SuspectMemoryNow = r.MemoryBefore, r.MemoryNow
		if rev, ok := findRevision(s.Revisions, r.Name); ok {
			sig.PreviousReadyRevision = previousReady(s.Revisions, rev, bad)
		}
	}

	sig.ActionsLast24h, sig.MinutesSinceLastAction = actions(s.History, now)
	return sig, nil
}
