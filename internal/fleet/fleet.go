// Package fleet reads what `runmedic status` and `runmedic report` show: each service as it is
// now (through the Cloud Run, Monitoring and Logging clients) and runmedic's own record of what
// it did to it (Records), turned into status rows and incident write-ups.
package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/discover"
	"github.com/runmedic/runmedic/internal/freeze"
	"github.com/runmedic/runmedic/internal/report"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/status"
)

// Window is how far back status charts memory.
const Window = 3 * time.Hour

// Observer reads a live service (cloudrun.Client).
type Observer interface {
	Observe(ctx context.Context, target snapshot.Target) (cloudrun.Observation, error)
}

// Metrics reads a service's memory utilization (monitoring.Client): the views draw nothing else.
type Metrics interface {
	Memory(ctx context.Context, target snapshot.Target, now time.Time, window time.Duration) ([]snapshot.Point, error)
}

// Logs reads a service's OOM kills (logs.Reader); it never fails, it says why it could not read.
type Logs interface {
	OOMKills(ctx context.Context, target snapshot.Target, now time.Time, window time.Duration) snapshot.Logs
}

// Reader reads services for the views. Logs and Snoozes may be nil: kills are then not marked
// and snoozes not shown.
type Reader struct {
	Run     Observer
	Metrics Metrics
	Logs    Logs
	Records Records
	Config  config.Config
	// Lister lists the services of the config's "*" rules (cloudrun.Client); nil shows only the
	// services the config names.
	Lister discover.Lister
	// Snoozes lists the Monitoring snoozes of a project active at now (snooze.Reader.Active).
	Snoozes func(ctx context.Context, project string, now time.Time) ([]freeze.Snooze, error)
}

// Targets are the services the config names, in the given projects when any are named. A "*"
// rule names none: Reader.Managed lists the services it admits.
func Targets(c config.Config, projects []string) []snapshot.Target {
	var out []snapshot.Target
	for _, r := range c.Services {
		if r.Service == config.AnyService || len(projects) > 0 && !contains(projects, r.Project) {
			continue
		}
		out = append(out, snapshot.Target{Project: r.Project, Location: r.Location, Service: r.Service})
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// observe reads the service and runmedic's record of it.
func (r Reader) observe(ctx context.Context, target snapshot.Target) (cloudrun.Observation, Record, error) {
	obs, err := r.Run.Observe(ctx, target)
	if err != nil {
		return obs, Record{}, err
	}
	rec, err := r.Records.Record(ctx, target, obs)
	return obs, rec, err
}

// changeLabel is how a recorded change is labelled on a chart.
func changeLabel(a snapshot.Action) string {
	return report.Marker(report.Change{Action: a.Action, Fields: report.FieldsOf(a.Changes)}).Label
}

// changeText is a recorded change in one phrase: "template.memory 2Gi → 4Gi".
func changeText(a snapshot.Action) string {
	s := ""
	for i, f := range report.FieldsOf(a.Changes) {
		if i > 0 {
			s += "; "
		}
		s += f.String()
	}
	return s
}

// Row reads one managed service for status at now.
func (r Reader) Row(ctx context.Context, target snapshot.Target, now time.Time) (status.Row, error) {
	row := status.Row{Service: target.Name(), Mode: r.Config.ModeFor(target), MemoryNow: -1,
		Threshold: r.threshold(target), VerifyBelow: r.Config.Defaults.VerifyBelow, Budget: r.Config.Defaults.MaxActionsPerDay}
	obs, rec, err := r.observe(ctx, target)
	if err != nil {
		return row, err
	}
	row.MemoryLimit = obs.Service.Template.Memory
	mem, err := r.Metrics.Memory(ctx, target, now, Window)
	if err != nil {
		return row, fmt.Errorf("read memory of %s: %w", target.Name(), err)
	}
	row.Memory = mem
	if n := len(row.Memory); n > 0 {
		row.MemoryNow = row.Memory[n-1].Value
	}
	row.Spark = status.Sparkline(row.Memory, now)

	for _, w := range rec.Watching {
		row.Watching = append(row.Watching, status.Watch{Incident: w.Incident, StartedAt: w.StartedAt, Severity: w.Severity})
	}
	row.BudgetLeft = row.Budget
	for i, a := range rec.Actions {
		if i == 0 {
			row.LastAction = &status.Action{Incident: a.Incident, Action: a.Action, At: a.At, Change: changeText(a), Revision: a.Revision, Outcome: a.Outcome}
		}
		if a.Changed() && now.Sub(a.At) < 24*time.Hour {
			row.BudgetLeft--
		}
		if a.Changed() && !a.At.Before(now.Add(-Window)) {
			row.Changes = append(row.Changes, status.Change{At: a.At, Label: changeLabel(a)})
		}
	}
	row.BudgetLeft = max(row.BudgetLeft, 0)
	if p := rec.Pending; p != nil {
		row.Pending = &status.Pending{Incident: p.Incident, Action: p.Action, Due: p.VerifyAt}
	}
	if p := rec.Pin; p != nil {
		row.Pin = &status.Pin{Revision: p.Revision, Since: p.Since, Incident: p.Incident}
	}
	row.Rollout = rollout(obs)
	row.Hold = r.hold(ctx, target, obs, rec, now)
	seen := map[string]bool{}
	for _, s := range rec.Sent {
		k := s.Sink + " to " + s.To
		if s.Refused == "" || seen[k] {
			continue
		}
		seen[k] = true
		row.Failing = append(row.Failing, fmt.Sprintf("%s refused at %s: %s", k, s.At.UTC().Format("15:04"), s.Refused))
	}
	return row, nil
}

// rollout words a rollout Cloud Run has not finished, or "".
func rollout(obs cloudrun.Observation) string {
	s := obs.Service
	switch {
	case s.LatestCreatedRevision != "" && s.LatestCreatedRevision != s.LatestReadyRevision:
		return fmt.Sprintf("revision %s is not ready yet; %s serves", s.LatestCreatedRevision, s.LatestReadyRevision)
	case obs.Reconciling:
		return "Cloud Run is still reconciling the last change"
	}
	return ""
}

// hold words what holds runmedic's changes to the service now: a freeze window, the service's
// freeze mark, or a snooze on a watched incident's alert policy.
func (r Reader) hold(ctx context.Context, target snapshot.Target, obs cloudrun.Observation, rec Record, now time.Time) string {
	if w := freeze.Window(r.Config.Freeze, now); w != "" {
		return w
	}
	if freeze.Marked(obs.Service.Labels, obs.Service.Annotations) {
		return "the service is marked " + freeze.Key + "=true"
	}
	if r.Snoozes == nil || len(rec.Watching) == 0 {
		return ""
	}
	snoozes, err := r.Snoozes(ctx, target.Project, now)
	if err != nil {
		return fmt.Sprintf("snoozes unreadable (%v): changes are held", err)
	}
	for _, w := range rec.Watching {
		if s := freeze.Snoozed(snoozes, w.Policy, now); s != "" {
			return s
		}
	}
	return ""
}

// threshold is the memory p99 above which runmedic acts on target: the config's, per service
// (memory_threshold), or the runbook's 0.85 for a config that sets none.
func (r Reader) threshold(target snapshot.Target) float64 {
	if t := r.Config.DefaultsFor(target).MemoryThreshold; t > 0 {
		return t
	}
	return 0.85
}
