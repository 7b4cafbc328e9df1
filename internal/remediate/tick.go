package remediate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Tick is the verify tick Cloud Scheduler sends every five minutes. It reconciles the services
// with open work. With the ledger these are the services it lists as open (watched incidents,
// pending verifications, pins, rollouts, claims), plus a batch of at most ImportBatch managed
// services (named by the config or found by Fleet) not yet known to have their legacy annotation
// imported: the idle rest of the fleet costs a tick nothing. Without the ledger, every managed
// service is visited, since its annotation is runmedic's only memory. Each incident runmedic is
// watching is handled as if Monitoring had re-notified it, with the labels it arrived with (so
// pending changes are verified and due escalation steps are sent, once each), and a traffic pin
// that holds back a newer Ready revision is reported once. A pending change whose incident closed
// before it was judged is verified once verify_after has passed. Services are visited
// tickWorkers at a time; errors of one service do not stop the others; they are joined.
func (r *Remediator) Tick(ctx context.Context) ([]audit.Event, error) {
	jobs, err := r.tickWork(ctx, r.Now().UTC())
	if err != nil {
		return nil, err
	}
	evs := make([][]audit.Event, len(jobs))
	errs := make([][]error, len(jobs))
	sem := make(chan struct{}, tickWorkers)
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			evs[i], errs[i] = job(ctx)
		}()
	}
	wg.Wait()
	all := slices.Concat(errs...)
	err = errors.Join(all...)
	if err != nil && allPermanent(all) {
		err = permanent(err)
	}
	return slices.Concat(evs...), err
}

// tickWorkers bounds the services one tick reconciles at once.
const tickWorkers = 4

// tickJob is a tick's work on one service.
type tickJob func(ctx context.Context) ([]audit.Event, []error)

// tickWork lists a tick's work, one job per service: the open ones first, then the batch
// checked for a legacy annotation.
func (r *Remediator) tickWork(ctx context.Context, now time.Time) ([]tickJob, error) {
	visit := func(t snapshot.Target) tickJob {
		return func(ctx context.Context) ([]audit.Event, []error) { return r.tickService(ctx, t) }
	}
	managed := r.managed(ctx, now)
	li, ok := r.Ledger.(legacyImports)
	if r.Ledger == nil || !ok {
		targets, err := r.openWork(ctx, managed)
		if err != nil {
			return nil, err
		}
		jobs := make([]tickJob, len(targets))
		for i, t := range targets {
			jobs[i] = visit(t)
		}
		return jobs, nil
	}
	targets, err := r.openWork(ctx, nil)
	if err != nil {
		return nil, err
	}
	var jobs []tickJob
	open := map[snapshot.Target]bool{}
	for _, t := range targets {
		open[t] = true
		jobs = append(jobs, visit(t))
	}
	todo, err := r.importBatch(ctx, li, managed, open)
	if err != nil {
		return nil, err
	}
	for _, t := range todo {
		jobs = append(jobs, func(ctx context.Context) ([]audit.Event, []error) { return r.importLegacy(ctx, li, t) })
	}
	return jobs, nil
}

// openWork lists the services a tick visits, each once: managed in its order, then the ledger's
// open ones that the config allows.
func (r *Remediator) openWork(ctx context.Context, managed []snapshot.Target) ([]snapshot.Target, error) {
	var targets []snapshot.Target
	seen := map[snapshot.Target]bool{}
	add := func(t snapshot.Target) {
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	for _, t := range managed {
		add(t)
	}
	if r.Ledger != nil {
		open, err := r.Ledger.Open(ctx)
		if err != nil {
			return nil, err // Firestore unavailable: the tick is retried
		}
		for _, t := range open {
			if _, ok := r.Config.Allowed(t); ok {
				add(t)
			}
		}
	}
	return targets, nil
}

// tickService reconciles one service for the tick.
func (r *Remediator) tickService(ctx context.Context, target snapshot.Target) ([]audit.Event, []error) {
	var evs []audit.Event
	var errs []error
	obs, err := r.Observer.Observe(ctx, target)
	if err != nil {
		return nil, []error{classify(err)}
	}
	st, _, _, err := r.remember(ctx, target, obs, r.Now().UTC())
	if err != nil {
		if r.Ledger == nil || !errors.Is(err, state.ErrEntryUnreadable) {
			return nil, []error{err}
		}
		ev, err := r.failClosed(ctx, audit.Event{Time: r.Now().UTC(), Target: target.Name(), Step: "observe", Delivery: "tick"}, alert.Alert{Target: target}, err)
		return []audit.Event{ev}, []error{err}
	}
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
	if ro := st.Rollout; ro != nil && !watching(st.Watching, ro.Incident) {
		ev, err := r.reconcileRollout(ctx, target)
		evs = append(evs, ev...)
		errs = append(errs, err)
	}
	if st.Pin != nil {
		ev, sent, err := r.checkPin(ctx, target)
		if sent {
			evs = append(evs, ev)
		}
		errs = append(errs, err)
	}
	return evs, errs
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

// watchedAlert is the re-notification a tick stands in for, with the labels the incident arrived
// with.
func watchedAlert(target snapshot.Target, w state.Watch) alert.Alert {
	a := alert.Alert{
		Incident: snapshot.Incident{
			ID: w.Incident, State: snapshot.StateOpen, Policy: cmp.Or(w.Policy, tickPolicy),
			StartedAt: w.StartedAt, Severity: w.Severity, URL: w.URL, Labels: maps.Clone(w.Labels),
		},
		Target:   target,
		Delivery: alert.Delivery{MessageID: "tick"},
	}
	if a.Incident.Labels == nil {
		a.Incident.Labels = map[string]string{}
	}
	return a
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
	st, _, _, err := r.remember(ctx, target, obs, r.Now().UTC())
	if err != nil {
		return audit.Event{}, false, err
	}
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
