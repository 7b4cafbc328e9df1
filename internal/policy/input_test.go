package policy_test

import (
	"time"

	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var capturedAt = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// series is n one-minute points ending at capturedAt, oldest first.
func series(n int, value func(i int) float64) []snapshot.Point {
	out := make([]snapshot.Point, n)
	for i := range out {
		out[i] = snapshot.Point{At: capturedAt.Add(time.Duration(i-n+1) * time.Minute), Value: value(i)}
	}
	return out
}

// input is a realistic open incident on aiprod-api (2Gi, 80 concurrent requests) with three
// hours of metrics: memory high and flat. mutate adjusts the signals for one case.
func input(mutate func(*policy.Input)) policy.Input {
	in := policy.Input{
		Snapshot: snapshot.Snapshot{
			Version:    snapshot.Version,
			CapturedAt: capturedAt,
			Incident: snapshot.Incident{
				ID: "0.nrwotmyokd9n", State: snapshot.StateOpen, Policy: "alert-memory-high",
				Condition: "Cloud Run memory p99 > 85%", Metric: "run.googleapis.com/container/memory/utilizations",
				Observed: ptr(0.93), Threshold: ptr(0.85), StartedAt: capturedAt.Add(-6 * time.Minute),
				Severity: "Warning", Labels: map[string]string{"remediation": "auto"},
			},
			Target: snapshot.Target{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-api"},
			Service: snapshot.Service{
				Etag: `"abc"`, Generation: 12,
				Template: snapshot.Template{
					Image:  "europe-docker.pkg.dev/aiprod-484120/api/api@sha256:0f1e",
					Memory: "2Gi", CPU: "1", MaxConcurrency: 80, MaxInstances: 20,
				},
				Traffic:               []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}},
				LatestReadyRevision:   "aiprod-api-00042-abc",
				LatestCreatedRevision: "aiprod-api-00042-abc",
			},
			Revisions: []snapshot.Revision{
				{Name: "aiprod-api-00042-abc", CreatedAt: capturedAt.Add(-3 * 24 * time.Hour), Ready: true, Memory: "2Gi", CPU: "1", MaxConcurrency: 80, TrafficPercent: 100},
				{Name: "aiprod-api-00041-xyz", CreatedAt: capturedAt.Add(-5 * 24 * time.Hour), Ready: true, Memory: "2Gi", CPU: "1", MaxConcurrency: 80},
			},
			Metrics: snapshot.Metrics{
				MemoryUtilization: series(180, func(i int) float64 { return 0.9 + float64(i%7)/200 }),
				InstanceCount:     series(180, func(int) float64 { return 3 }),
				RequestCount:      series(180, func(i int) float64 { return 1200 + float64(i%11) }),
			},
			History: []snapshot.Action{{
				Incident: "0.older", Action: "raise_memory", At: capturedAt.Add(-12 * time.Hour),
				Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("1Gi"), After: snapshot.TextValue("2Gi")}}, Outcome: "verified",
			}},
		},
		Signals: signals.Signals{
			HasMemoryData: true, MemoryNow: 0.93, MemoryMax: 0.93, MemorySlopePerHour: 0.01,
			RisingMinutes: 3, MinutesAboveThreshold: 34,
			ServingRevision: "aiprod-api-00042-abc", ServingRevisionAgeMinutes: 3 * 24 * 60,
			PreviousReadyRevision: "aiprod-api-00041-xyz",
			MemoryLimitMiB:        2048, CPULimit: 1, NextMemoryStep: "4Gi",
			SafeConcurrency: 29, ActionsLast24h: 1, MinutesSinceLastAction: 720,
		},
	}
	if mutate != nil {
		mutate(&in)
	}
	return in
}
