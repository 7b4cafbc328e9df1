package plan_test

import (
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

const (
	imageGood = "europe-docker.pkg.dev/aiprod-484120/api/api@sha256:1111"
	imageNew  = "europe-docker.pkg.dev/aiprod-484120/api/api@sha256:2222"
	revNew    = "aiprod-api-00042-abc"
	revGood   = "aiprod-api-00041-def"
	revBroken = "aiprod-api-00040-bad"
)

var capturedAt = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)

// testSnapshot is a healthy-looking service on 2Gi / 1 CPU, all traffic on the latest revision
// (revNew, image imageNew); revGood is an older Ready revision, revBroken never became Ready.
// edits are applied in order.
func testSnapshot(edits ...func(*snapshot.Snapshot)) snapshot.Snapshot {
	obs, thr := 0.93, 0.85
	s := snapshot.Snapshot{
		Version:    snapshot.Version,
		CapturedAt: capturedAt,
		Incident: snapshot.Incident{
			ID: "0.nrwotmyokd9n", State: snapshot.StateOpen, Policy: "alert-memory-high",
			Observed: &obs, Threshold: &thr, StartedAt: capturedAt.Add(-6 * time.Minute),
		},
		Target: snapshot.Target{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-api"},
		Service: snapshot.Service{
			Etag:                `"abc"`,
			Template:            snapshot.Template{Image: imageNew, Memory: "2Gi", CPU: "1", MaxConcurrency: 80, MaxInstances: 20},
			Traffic:             []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}},
			LatestReadyRevision: revNew, LatestCreatedRevision: revNew,
		},
		Revisions: []snapshot.Revision{
			{Name: revNew, CreatedAt: capturedAt.Add(-3 * time.Hour), Ready: true, Image: imageNew, Memory: "2Gi", CPU: "1", MaxConcurrency: 80, TrafficPercent: 100},
			{Name: revGood, CreatedAt: capturedAt.Add(-48 * time.Hour), Ready: true, Image: imageGood, Memory: "2Gi", CPU: "1", MaxConcurrency: 80},
			{Name: revBroken, CreatedAt: capturedAt.Add(-72 * time.Hour), Ready: false, Image: imageGood, Memory: "1Gi", CPU: "1", MaxConcurrency: 80},
		},
	}
	for _, e := range edits {
		e(&s)
	}
	return s
}

// pinnedTo pins all traffic to one revision, as a rollback leaves the service.
func pinnedTo(rev string) func(*snapshot.Snapshot) {
	return func(s *snapshot.Snapshot) {
		s.Service.Traffic = []snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: rev, Percent: 100}}
		for i := range s.Revisions {
			s.Revisions[i].TrafficPercent = 0
			if s.Revisions[i].Name == rev {
				s.Revisions[i].TrafficPercent = 100
			}
		}
	}
}

func withTemplate(memory, cpu string) func(*snapshot.Snapshot) {
	return func(s *snapshot.Snapshot) { s.Service.Template.Memory, s.Service.Template.CPU = memory, cpu }
}

func testDefaults() config.Defaults {
	return config.Defaults{
		Mode:             config.ModeEnforce,
		MemorySteps:      []string{"512Mi", "1Gi", "2Gi", "4Gi", "8Gi", "16Gi", "32Gi"},
		MemoryCeiling:    "8Gi",
		CPUCeiling:       "4",
		Cooldown:         config.Duration{Duration: 15 * time.Minute},
		MaxActionsPerDay: 3,
		RegressionWindow: config.Duration{Duration: 24 * time.Hour},
		VerifyAfter:      config.Duration{Duration: 10 * time.Minute},
		VerifyBelow:      0.80,
		Escalation: []config.EscalationStep{
			{After: config.Duration{Duration: 5 * time.Minute}, Notify: "backend-lead@aiprod.ai"},
			{After: config.Duration{Duration: 15 * time.Minute}, Notify: "service-lead"},
			{After: config.Duration{Duration: 30 * time.Minute}, Notify: "engineering-manager"},
		},
	}
}

func testSignals() signals.Signals {
	return signals.Signals{
		HasMemoryData: true, MemoryNow: 0.93, MemoryMax: 0.95, MemorySlopePerHour: 0.0123456,
		MinutesAboveThreshold: 6, ServingRevision: revNew, ServingRevisionAgeMinutes: 180,
		PreviousReadyRevision: revGood, MemoryLimitMiB: 2048, CPULimit: 1, NextMemoryStep: "4Gi",
		SafeConcurrency: 29, MinutesSinceLastAction: -1,
	}
}

func raise(memory, cpu string) decision.Decision {
	return decision.Decision{
		Action: decision.RaiseMemory, Diagnosis: decision.InsufficientMemory, Policy: "runmedic.oom",
		Reason:   "memory is high and flat, not rising",
		Evidence: []string{"memory p99 93% of 2Gi for 6 minutes", "slope 1.2%/h over 3h: flat"},
		Params:   decision.Params{Memory: memory, CPU: cpu},
	}
}

func rollbackTo(rev string) decision.Decision {
	return decision.Decision{
		Action: decision.Rollback, Diagnosis: decision.Regression, Policy: "runmedic.oom",
		Reason: "memory rising since " + revNew + " took traffic",
		Params: decision.Params{Revision: rev},
	}
}

func act(a decision.Action, p decision.Params) decision.Decision {
	return decision.Decision{Action: a, Diagnosis: decision.Unknown, Policy: "runmedic.oom", Params: p}
}

func latest100() []snapshot.TrafficTarget {
	return []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}}
}

func revision100(rev string) []snapshot.TrafficTarget {
	return []snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: rev, Percent: 100}}
}
