// Package fleettest serves a small fleet from the Cloud Run, Monitoring and Logging fakes, for
// tests of `status` and `report` and for the README's examples: three managed services in two
// projects, one healthy, one raised and awaiting verification, one pinned after a rollback.
package fleettest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// The fleet's services and the incident being verified.
var (
	Web       = snapshot.Target{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-web"}
	API       = snapshot.Target{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-api"}
	Worker    = snapshot.Target{Project: "aiprod-batch-77", Location: "us-central1", Service: "aiprod-worker"}
	Incident  = "0.nrwotmyokd9n" // on API: raised 2Gi → 4Gi six minutes ago, verification pending
	Rollback  = "0.k3qv8sw1pz2a" // on Worker: rolled back to its previous revision, verified
	APIRaised = "aiprod-api-00043-xyz"
	WorkerOld = "aiprod-worker-00017-old"
)

// Config is the config overlay listing the fleet as managed services.
const Config = `services:
  - {project: aiprod-484120, location: europe-west1, service: aiprod-web}
  - {project: aiprod-484120, location: europe-west1, service: aiprod-api}
  - {project: aiprod-batch-77, location: us-central1, service: aiprod-worker, mode: shadow}
`

// Fleet is the running fakes.
type Fleet struct {
	Run        *cloudruntest.Server
	Monitoring *monitoringtest.Server
	Logging    *loggingtest.Server
	Now        time.Time
}

// Env are the environment variables pointing runmedic at the fakes.
func (f *Fleet) Env() map[string]string {
	return map[string]string{
		"RUNMEDIC_RUN_ENDPOINT":        f.Run.Addr(),
		"RUNMEDIC_MONITORING_ENDPOINT": f.Monitoring.Addr(),
		"RUNMEDIC_LOGGING_ENDPOINT":    f.Logging.Addr(),
	}
}

// Start serves the fleet as it is at now (truncated to the minute); the fakes stop with t.
func Start(t testing.TB, now time.Time) *Fleet {
	t.Helper()
	f := &Fleet{Run: cloudruntest.New(t), Monitoring: monitoringtest.New(t), Logging: loggingtest.New(t), Now: now.UTC().Truncate(time.Minute)}
	snaps, err := Snapshots(f.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, snap := range snaps {
		if err := f.Run.SeedFromSnapshot(snap); err != nil {
			t.Fatal(err)
		}
		f.Monitoring.SeedFromSnapshot(snap)
		f.Logging.SeedFromSnapshot(snap)
	}
	return f
}

// Snapshots are the three services at now, their state annotation holding runmedic's record.
func Snapshots(now time.Time) ([]snapshot.Snapshot, error) {
	m := func(d int) time.Time { return now.Add(time.Duration(d) * time.Minute) }

	// aiprod-web: flat at about 45 %, a raise two days ago that was verified.
	web := base(Web, now, "1Gi", "aiprod-web-00008-qrs", m(-3000))
	web.Metrics.MemoryUtilization = series(now, func(i int) float64 { return 0.44 + 0.03*math.Sin(float64(i)/9) })
	webState := state.State{Version: state.Version}.Record(snapshot.Action{
		Incident: "0.a8d2kq0zzm4e", Action: "raise_memory", At: m(-2900), Outcome: state.OutcomeVerified, Revision: "aiprod-web-00008-qrs",
		Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("512Mi"), After: snapshot.TextValue("1Gi")}}}).MarkPublished("0.a8d2kq0zzm4e/raise_memory")

	// aiprod-api: climbing to 93 % with OOM kills, raised to 4Gi six minutes ago.
	api := base(API, now, "4Gi", APIRaised, m(-6))
	api.Revisions = append(api.Revisions, snapshot.Revision{Name: "aiprod-api-00042-abc", CreatedAt: m(-4000), Ready: true, Image: image, Memory: "2Gi", CPU: "1", MaxConcurrency: 80})
	api.Metrics.MemoryUtilization = series(now, func(i int) float64 {
		switch {
		case i >= 174:
			return 0.52 + 0.01*float64(i%3)
		case i >= 130:
			return 0.93
		}
		return 0.62 + 0.31*float64(i)/130
	})
	api.Logs = &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{{Revision: "aiprod-api-00042-abc", Count: 3, LimitMiB: 2048, MaxUsedMiB: 2101, First: m(-22), Last: m(-9)}}}
	st := state.State{Version: state.Version}.
		Watch(state.Watch{Incident: Incident, StartedAt: m(-40), Severity: "Warning", Policy: "projects/aiprod-484120/alertPolicies/1234"}).
		Record(snapshot.Action{Incident: Incident, Action: "raise_memory", At: m(-6), Outcome: state.OutcomeApplied, Revision: APIRaised,
			Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}}).
		MarkPublished(Incident + "/raise_memory").
		MarkDelivered(state.Delivery{Incident: Incident, Key: state.DeliveryKey("change@raise_memory", "backend-lead", "slack"), At: m(-6)}).
		MarkDelivered(state.Delivery{Incident: Incident, Key: state.DeliveryKey("ack@raise_memory", "backend-lead", "pagerduty"), At: m(-6)}).
		MarkDelivered(state.Delivery{Incident: Incident, Key: state.DeliveryKey("change@raise_memory", "backend-lead", "chat"), At: m(-6), Refused: "400 Bad Request: webhook not found"})
	st.Pending = &state.Verification{Incident: Incident, Action: "raise_memory", AppliedAt: m(-6), VerifyAt: m(4),
		Baseline: state.Baseline{Memory: 0.93}, Revision: APIRaised, Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}}

	// aiprod-worker: a canary leaked; traffic pinned back to the old revision 95 minutes ago.
	worker := base(Worker, now, "2Gi", "aiprod-worker-00018-new", m(-150))
	worker.Revisions = append(worker.Revisions, snapshot.Revision{Name: WorkerOld, CreatedAt: m(-9000), Ready: true, Image: image, Memory: "2Gi", CPU: "1", MaxConcurrency: 80})
	worker.Service.Traffic = []snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: WorkerOld, Percent: 100}}
	worker.Revisions[0].TrafficPercent, worker.Revisions[1].TrafficPercent = 0, 100
	worker.Metrics.MemoryUtilization = series(now, func(i int) float64 {
		switch {
		case i >= 60 && i < 72:
			return math.NaN() // no data
		case i >= 85:
			return 0.48 + 0.02*math.Sin(float64(i)/5)
		}
		return 0.55 + 0.35*float64(i)/85
	})
	wst := state.State{Version: state.Version}.
		Record(snapshot.Action{Incident: Rollback, Action: "rollback", At: m(-95), Outcome: state.OutcomeVerified, Revision: WorkerOld,
			Changes: []snapshot.Change{{Path: snapshot.PathTraffic,
				Before: snapshot.TrafficValue([]snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}}),
				After:  snapshot.TrafficValue([]snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: WorkerOld, Percent: 100}})}}}).
		MarkPublished(Rollback + "/rollback")
	wst.Pin = &state.Pin{Revision: WorkerOld, Since: m(-95), Incident: Rollback}

	var err error
	for _, s := range []struct {
		snap *snapshot.Snapshot
		st   state.State
	}{{&web, webState}, {&api, st}, {&worker, wst}} {
		if s.snap.Service.Annotations[state.Annotation], err = state.Encode(s.st); err != nil {
			return nil, fmt.Errorf("fleet fixture %s: %w", s.snap.Target.Service, err)
		}
	}
	return []snapshot.Snapshot{web, api, worker}, nil
}

const image = "europe-docker.pkg.dev/aiprod/app/server:1.42"

// base is a one-revision service serving all traffic from its latest revision.
func base(t snapshot.Target, now time.Time, memory, revision string, created time.Time) snapshot.Snapshot {
	return snapshot.Snapshot{
		Version: snapshot.Version, CapturedAt: now, Target: t,
		Service: snapshot.Service{
			Etag: "e-" + t.Service, Generation: 1, Labels: map[string]string{}, Annotations: map[string]string{},
			Template:            snapshot.Template{Image: image, Memory: memory, CPU: "1", MaxConcurrency: 80, MaxInstances: 10},
			Traffic:             []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}},
			LatestReadyRevision: revision, LatestCreatedRevision: revision,
		},
		Revisions: []snapshot.Revision{{Name: revision, CreatedAt: created, Ready: true, Image: image, Memory: memory, CPU: "1", MaxConcurrency: 80, TrafficPercent: 100}},
	}
}

// series is three hours of one point a minute ending at now; NaN leaves a minute out.
func series(now time.Time, v func(i int) float64) []snapshot.Point {
	var out []snapshot.Point
	for i := range 180 {
		x := v(i)
		if math.IsNaN(x) {
			continue
		}
		out = append(out, snapshot.Point{At: now.Add(time.Duration(i-179) * time.Minute), Value: math.Round(x*1000) / 1000})
	}
	return out
}
