package signals

import (
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// DefaultThreshold is the runbook's alert line, used when the incident carries no threshold.
const DefaultThreshold = 0.85

// Compute derives the signals of s. It is pure: "now" is s.CapturedAt, so a fixture yields the
// same signals forever. It fails only on quantities it cannot read (the service template's memory
// or CPU, the configured steps or ceiling), naming the field; missing data is never an error, it
// yields the "unknown" value of each signal.
func Compute(s snapshot.Snapshot, d config.Defaults) (Signals, error) {
	now := s.CapturedAt
	var sig Signals

	lim, err := computeLimits(s.Service.Template, d)
	if err != nil {
		return Signals{}, err
	}
	sig.MemoryLimitMiB = lim.memoryMiB
	sig.CPULimit = float64(lim.cpuMilli) / 1000
	sig.NextMemoryStep = lim.nextStep
	sig.NextMemoryStepCPU = lim.nextStepCPU
	sig.SafeConcurrency = safeConcurrency(lim.memoryMiB)

	mem := newSeries(s.Metrics.MemoryUtilization)
	threshold := DefaultThreshold
	if t := s.Incident.Threshold; t != nil {
		threshold = *t
	}
	if n := mem.len(); n > 0 {
		sig.HasMemoryData = true
		sig.MemoryNow = mem.val[n-1]
		sig.MemoryMax = mem.max()
		sig.MemorySlopePerHour = mem.slopePerHour()
		sig.RisingMinutes = mem.risingMinutes()
		sig.Resets = mem.resets()
		sig.MinutesAboveThreshold = mem.minutesAbove(threshold)
	}
	sig.RequestSpike = requestSpike(newSeries(s.Metrics.RequestCount), sig.RisingMinutes)

	sig.ServingRevision = servingRevision(s)
	sig.TrafficPinned = trafficPinned(s.Service.Traffic)
	sig.ServingRevisionAgeMinutes = -1
	sig.MemoryBeforeServing = -1
	if rev, ok := findRevision(s.Revisions, sig.ServingRevision); ok {
		sig.ServingRevisionAgeMinutes = max(0, minutes(now.Sub(rev.CreatedAt)))
		sig.MemoryBeforeServing = mem.meanBefore(rev.CreatedAt)
		sig.PreviousReadyRevision = previousReady(s.Revisions, rev, badRevisions(s.Revisions, s.History))
	}

	sig.ActionsLast24h, sig.MinutesSinceLastAction = actions(s.History, now)
	return sig, nil
}
