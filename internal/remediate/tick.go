package remediate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Tick is the verify tick Cloud Scheduler sends every five minutes. For every managed service,
// each incident runmedic is watching is handled as if Monitoring had re-notified it (so pending
// changes are verified and due escalation steps are sent, once each), and a traffic pin that
// holds back a newer Ready revision is reported once. A pending change whose incident closed
// before it was judged is verified once verify_after has passed. Errors of one service do not
// stop the others; they are joined.
func (r *Remediator) Tick(ctx context.Context) ([]audit.Event, error) {
	var evs []audit.Event
	var errs []error
	for _, svc := range r.Config.Services {
		if svc.Service == config.AnyService {
			continue // a pattern, not a service: discovery finds the services it admits
		}
		target := snapshot.Target{Project: svc.Project, Location: svc.Location, Service: svc.Service}
		obs, err := r.Observer.Observe(ctx, target)
		if err != nil {
			errs = append(errs, classify(err))
			continue
		}
		st, _ := state.Decode(obs.StateAnnotation) // an unreadable state watches nothing
		for _, w := range st.Watching {
			ev, err := r.Handle(ctx, watchedAlert(target, w))
			evs = append(evs, ev)
			errs = append(errs, err)
		}
		if p := st.Pending; p != nil && !watching(st.Watching, p.Incident) && !r.Now().Before(p.VerifyAt) {
			// Its incident closed before the change could be judged healthy: judge it now, as
			// the closing notification would have. Closed, it notifies nobody.
			ev, err := r.Handle(ctx, closedAlert(target, *p))
			evs = append(evs, ev)
			errs = append(errs, err)
		}
		if st.Pin != nil {
			ev, sent, err := r.checkPin(ctx, target)
			if sent {
				evs = append(evs, ev)
			}
			errs = append(errs, err)
		}
	}
	err := errors.Join(errs...)
	if err != nil && allPermanent(errs) {
		err = permanent(err)
	}
	return evs, err
}

// allPermanent reports whether every non-nil error is permanent.
func allPermanent(errs []error) bool {
	for _, err := range errs {
		if err != nil && !IsPermanent(err) {
			return false
		}
	}
	return true
}

// tickPolicy names the policy of an incident a verify tick re-runs when its own was not recorded.
const tickPolicy = "verify-tick"

// watchedPolicy is the policy name worth remembering for a watched incident: not the tick's own.
func watchedPolicy(p string) string {
	if p == tickPolicy {
		return ""
	}
	return p
}

// watchedAlert is the re-notification a tick stands in for.
func watchedAlert(target snapshot.Target, w state.Watch) alert.Alert {
	return alert.Alert{
		Incident: snapshot.Incident{
			ID: w.Incident, State: snapshot.StateOpen, Policy: cmp.Or(w.Policy, tickPolicy),
			StartedAt: w.StartedAt, Severity: w.Severity, URL: w.URL, Labels: map[string]string{},
		},
		Target:   target,
		Delivery: alert.Delivery{MessageID: "tick"},
	}
}

// watching reports whether incident is among ws.
func watching(ws []state.Watch, incident string) bool {
	for _, w := range ws {
		if w.Incident == incident {
			return true
		}
	}
	return false
}

// closedAlert stands in for the closing notification of the incident p was applied for.
func closedAlert(target snapshot.Target, p state.Verification) alert.Alert {
	return alert.Alert{
		Incident: snapshot.Incident{
			ID: p.Incident, State: snapshot.StateClosed, Policy: "verify-tick",
			StartedAt: p.AppliedAt, Labels: map[string]string{},
		},
		Target:   target,
		Delivery: alert.Delivery{MessageID: "tick"},
	}
}

// checkPin notifies once when traffic is pinned by runmedic while a newer revision is Ready and
// gets nothing (a new deploy held back), and forgets a pin that someone else already released.
func (r *Remediator) checkPin(ctx context.Context, target snapshot.Target) (audit.Event, bool, error) {
	unlock, err := r.lock(ctx, target)
	if err != nil {
		return audit.Event{}, false, err
	}
	defer unlock()
	obs, err := r.Observer.Observe(ctx, target)
	if err != nil {
		return audit.Event{}, false, classify(err)
	}
	st, _ := state.Decode(obs.StateAnnotation)
	pin := st.Pin
	if pin == nil {
		return audit.Event{}, false, nil
	}
	rec := record{before: st, st: st, landed: st, etag: obs.Service.Etag}
	if !pinHolds(obs.Service.Traffic, pin.Revision) {
		rec.st.Pin = nil // traffic was moved by someone else: the pin is no longer runmedic's
		r.saveState(ctx, target, rec)
		return audit.Event{}, false, nil
	}
	newer := newerReady(obs.Revisions, *pin)
	step := "pin@" + newer
	to := ""
	if len(r.Config.Defaults.Escalation) > 0 {
		to = r.Config.Defaults.Escalation[0].Notify
	}
	if newer == "" || r.Notify == nil || to == "" || st.EscalationSent(pin.Incident, step) {
		return audit.Event{}, false, nil
	}
	now := r.Now().UTC()
	reason := fmt.Sprintf("traffic is pinned by runmedic to %s since %s; revision %s gets 0 %%; release it with `runmedic unpin --service %s`",
		pin.Revision, pin.Since.Format(time.RFC3339), newer, target.Name())
	n := audit.Notification{
		Time: now, Incident: pin.Incident, Target: target.Name(), Severity: "Warning", To: to, After: step,
		Action: decision.Rollback, Diagnosis: decision.Regression, Reason: reason, Evidence: []string{reason},
	}.WithID()
	if _, err := r.Notify.Publish(ctx, n, n.Attributes()); err != nil {
		return audit.Event{}, false, fmt.Errorf("publish pin notification: %w", err)
	}
	rec.st = rec.st.MarkEscalated(pin.Incident, step, to, now)
	r.saveState(ctx, target, rec)
	ev := audit.Event{
		Time: now, Incident: pin.Incident, IncidentState: snapshot.StateOpen, Target: target.Name(), Step: "pin",
		Outcome:  audit.Escalated,
		Decision: &decision.Decision{Action: decision.Escalate, Diagnosis: decision.Regression, Reason: reason, Evidence: []string{reason}, Policy: "runmedic.pin"},
	}.WithID()
	return ev, true, r.publishEvent(ctx, ev)
}

// pinHolds reports whether traffic still sends everything to revision.
func pinHolds(traffic []snapshot.TrafficTarget, revision string) bool {
	return len(traffic) == 1 && traffic[0].Type == snapshot.TrafficRevision && traffic[0].Revision == revision && traffic[0].Percent == 100
}

// newerReady is the newest Ready revision created after the pin was set, "" if none. Revisions
// older than the pin, such as the one a rollback moved traffic away from, are no deploy held
// back.
func newerReady(revs []snapshot.Revision, pin state.Pin) string {
	for _, r := range revs { // newest first
		if r.Ready && r.Name != pin.Revision && r.CreatedAt.After(pin.Since) {
			return r.Name
		}
	}
	return ""
}
