package remediate

import (
	"context"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// ErrNoPin means the service carries no traffic pin that runmedic made.
var ErrNoPin = fmt.Errorf("%w: no traffic pin made by runmedic", ErrPermanent)

// PrepareUnpin plans the release of runmedic's traffic pin on target: all traffic back to the
// latest Ready revision, checked by the same guard as every other change. Execute applies it.
func (r *Remediator) PrepareUnpin(ctx context.Context, target snapshot.Target) (*Run, error) {
	now := r.Now().UTC()
	obs, err := r.Observer.Observe(ctx, target)
	if err != nil {
		return nil, classify(err)
	}
	st, version, _, err := r.remember(ctx, target, obs, now)
	if err != nil {
		return nil, err
	}
	if st.Pin == nil {
		return nil, fmt.Errorf("%s: %w", target.Name(), ErrNoPin)
	}
	pin := st.Pin
	snap := snapshot.Snapshot{
		Version: snapshot.Version, CapturedAt: now, Target: target, Service: obs.Service, Revisions: obs.Revisions,
		History: st.History(),
		Incident: snapshot.Incident{
			ID: pin.Incident, State: snapshot.StateClosed, Policy: "unpin", StartedAt: pin.Since, Labels: map[string]string{},
		},
	}
	latest := []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}}
	p := plan.Plan{
		FormatVersion: plan.FormatVersion,
		Incident:      pin.Incident,
		Target:        target.Name(),
		Decision: decision.Decision{
			Action: decision.None, Diagnosis: decision.Recovered, Policy: "runmedic.unpin",
			Reason:   fmt.Sprintf("release the traffic pin runmedic set on %s at %s: traffic back to the latest Ready revision", pin.Revision, pin.Since.Format(time.RFC3339)),
			Evidence: []string{fmt.Sprintf("traffic pinned to %s by incident %s", pin.Revision, pin.Incident)},
		},
		Changes:       []snapshot.Change{{Path: snapshot.PathTraffic, Before: snapshot.TrafficValue(obs.Service.Traffic), After: snapshot.TrafficValue(latest)}},
		Notifications: []plan.Notification{},
		Etag:          obs.Service.Etag,
	}
	if !pinHolds(obs.Service.Traffic, pin.Revision) {
		p.Changes = []snapshot.Change{} // traffic already moved: nothing to release but the record
	}
	out := Outcome{Decision: p.Decision, Plan: guard.Check(p, snap, r.Config, now), Step: "unpin"}
	rec := record{before: st, st: st, landed: st, etag: obs.Service.Etag, version: version}
	rec.st.Pin = nil
	a := alert.Alert{Incident: snap.Incident, Target: target, Delivery: alert.Delivery{MessageID: "unpin"}}
	return &Run{Alert: a, Snapshot: snap, Outcome: out, now: now, rec: rec}, nil
}
