package remediate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Handle remediates one alert delivery: observe, decide, apply if the guard allows, notify,
// record. It returns the audit event it published and an error only when the delivery must be
// retried, or, wrapped in ErrPermanent, when it failed for good. Redeliveries and Monitoring's
// re-notifications re-read the service and find the work done: effects happen once per
// (service, incident, step).
func (r *Remediator) Handle(ctx context.Context, a alert.Alert) (res audit.Event, err error) {
	ev := audit.Event{
		Time:          r.Now().UTC(),
		Incident:      a.Incident.ID,
		IncidentState: a.Incident.State,
		Target:        a.Target.Name(),
		Step:          "observe",
		Delivery:      a.Delivery.MessageID,
		Warnings:      a.Warnings,
	}
	if _, ok := r.Config.Allowed(a.Target); !ok {
		// Not even read: nothing else is ever touched.
		ev.Step, ev.Outcome = "guard", audit.Refused
		ev.Guard = &plan.Verdict{Allowed: false, Mode: r.Config.ModeFor(a.Target), Refusals: []plan.Refusal{
			{Rule: guard.RuleAllowlist, Message: fmt.Sprintf("service %s is not on the allowlist", a.Target.Name())},
		}}
		return ev.WithID(), r.publishEvent(ctx, ev.WithID())
	}
	f, lead := r.join(a, ev.Time)
	if !lead {
		return r.coalesced(ctx, ev, f)
	}
	var run *Run
	defer func() { r.land(f, run, res, err) }()
	unlock, err := r.lockFlight(ctx, f, a.Target)
	if err != nil {
		return r.failed(ctx, ev, err)
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		run, err = r.Prepare(ctx, a)
		if errors.Is(err, ledger.ErrUnreadable) {
			return r.failClosed(ctx, ev, a, err)
		}
		if err != nil {
			return r.failed(ctx, ev, err)
		}
		if run.Outcome.Plan.Guard.Mode == config.ModeOff {
			// Read only to learn its mode: the decision is recorded, nothing is changed, sent or
			// written.
			ev = describe(ev, run.Outcome, run.Snapshot.History)
			ev.Outcome = audit.Refused
			return ev.WithID(), r.publishEvent(ctx, ev.WithID())
		}
		out, err := r.Execute(ctx, run)
		if errors.Is(err, cloudrun.ErrConflict) && attempt < maxConflicts {
			continue // the service moved under us: re-observe and re-plan
		}
		return out, err
	}
}

// Run is one observed and decided delivery, ready to be shown and executed. Execute applies
// exactly its plan, against the etag it was made from.
type Run struct {
	Alert    alert.Alert
	Snapshot snapshot.Snapshot
	Outcome  Outcome
	now      time.Time
	rec      record
}

// Prepare observes the service, verifies a pending change whose time has come, and decides.
// Nothing is changed yet.
func (r *Remediator) Prepare(ctx context.Context, a alert.Alert) (*Run, error) {
	now := r.Now().UTC()
	snap, st, version, err := r.observe(ctx, a, now)
	if err != nil {
		return nil, err
	}
	rec := record{before: st, st: st, landed: st, etag: snap.Service.Etag, version: version}
	rolloutFailed := r.readRollout(ctx, a.Target, &rec, now)
	if rolloutFailed {
		snap.History = rec.st.History()
	}
	rec.landed = rec.st
	out, err := r.decide(ctx, snap, &rec, now)
	if err != nil {
		return nil, permanent(err)
	}
	if rolloutFailed {
		escalateAfterRollout(&out)
	}
	out.Plan = r.holdForSnooze(ctx, snap, out, now)
	return &Run{Alert: a, Snapshot: snap, Outcome: out, now: now, rec: rec}, nil
}

// Execute applies the run's plan if it is applyable, sends the escalation steps that are due,
// and records everything: state on the service, audit events, the verdict of a verification.
// ErrConflict means the service changed since Prepare; nothing was changed.
func (r *Remediator) Execute(ctx context.Context, run *Run) (audit.Event, error) {
	a, snap, out, now, rec := run.Alert, run.Snapshot, run.Outcome, run.now, run.rec
	ev := audit.Event{
		Time: now, Incident: a.Incident.ID, IncidentState: a.Incident.State, Target: a.Target.Name(),
		Delivery: a.Delivery.MessageID, Warnings: a.Warnings,
	}
	ev = describe(ev, out, snap.History)

	var applyErr error // a change that landed but failed: acked, and the cause kept for errors.Is
	if out.Plan.Applyable {
		next := r.recordAction(rec.st, snap, out, now)
		marks, claim, err := r.claim(ctx, a.Target, rec, next, now)
		if errors.Is(err, cloudrun.ErrConflict) {
			return ev, err // another run claimed first, or recorded since: re-observe and decide again
		}
		if err != nil {
			return r.failed(ctx, ev, err)
		}
		loaded := rec.before
		var res cloudrun.Result
		if r.noWait() {
			res, err = r.Rollouts.Start(ctx, a.Target, out.Plan.Etag, out.Plan.Changes, marks)
			if err == nil {
				next.Rollout = &state.Rollout{Incident: a.Incident.ID, Action: out.Step, Operation: res.Operation, Before: res.Revision, Since: now}
				res.Revision = "" // named by the rollout, once it is read
			}
		} else {
			res, err = r.Applier.Apply(ctx, a.Target, out.Plan.Etag, out.Plan.Changes, marks)
		}
		switch {
		case errors.Is(err, cloudrun.ErrConflict):
			r.release(ctx, a.Target, claim) // nothing was sent
			return ev, err
		case errors.Is(err, cloudrun.ErrRevisionNotReady):
			// The update landed but its revision failed: Cloud Run keeps traffic where it was.
			// Record the failure, escalate, ack: retrying the same change would fail the same way.
			ev.Applied, ev.Outcome, ev.Error, applyErr = true, audit.Failed, err.Error(), err
			ev.Result = &audit.Result{Revision: res.Revision, Operation: res.Operation, Ready: false}
			rec.before, rec.st, rec.etag = next, next.Resolve(state.OutcomeFailed), res.Service.Etag
			if res.Revision != "" {
				rec.st = rec.st.WithRevision(a.Incident.ID, out.Step, res.Revision)
			}
			rec.landed = rec.st
			out.Decision.Action = decision.Escalate // every ladder step is now unconditional
		case err != nil:
			if err = classify(err); IsPermanent(err) || errors.Is(err, cloudrun.ErrNotSent) {
				r.release(ctx, a.Target, claim) // refused or never sent: nothing changed
			} // else it may have landed: the next run settles the claim from the service's marker
			return r.failed(ctx, ev, err)
		default:
			ev.Applied, ev.Outcome = true, audit.Applied
			ev.Result = &audit.Result{Revision: res.Revision, Operation: res.Operation, Ready: res.Ready}
			rec.before, rec.st, rec.etag = next, next, res.Service.Etag
			if res.Revision != "" {
				rec.st = next.WithRevision(a.Incident.ID, out.Step, res.Revision)
			}
			rec.landed = rec.st
		}
		if r.Ledger != nil {
			rec.before = loaded // the ledger records the change with the rest of the run
		}
	}

	// People first: a failing topic must not hold back a page, nor a failing sink the topic.
	ev.Deliveries = r.reach(ctx, snap, out, &rec, now)
	sent, err := r.sendDue(ctx, snap, out, &rec, now)
	if err != nil {
		// Keep what landed and the notifications already sent; the redelivery sends the rest.
		r.saveState(ctx, a.Target, record{before: rec.before, st: withEscalations(rec.landed, rec.st), etag: rec.etag})
		return r.failed(ctx, ev, err)
	}
	if !ev.Applied && (sent > 0 || paged(ev.Deliveries)) && (ev.Outcome == audit.NoChange || ev.Outcome == audit.Duplicate) {
		ev.Outcome = audit.Escalated
	}
	r.watch(snap, out, &rec)
	ev = ev.WithID()
	if err := r.publishAll(ctx, &rec, snap, ev); err != nil {
		// The state on the service keeps the record; the next delivery publishes it. The
		// notifications this run sent are recorded all the same, or that delivery would send
		// them again; everything else (a verdict, the published marks) it redoes.
		r.saveState(ctx, a.Target, record{before: rec.before, st: withEscalations(rec.landed, rec.st), etag: rec.etag})
		return ev, fmt.Errorf("publish audit event: %w", err)
	}
	if err := r.saveState(ctx, a.Target, rec); err != nil && r.Ledger != nil {
		// The change is on the service under its claim; the redelivery records it from there.
		return ev, fmt.Errorf("record in the ledger: %w", err)
	}
	if applyErr != nil {
		return ev, permanent(applyErr)
	}
	return ev, nil
}

// decide verifies the pending change if its time has come, then decides: what follows a failed
// remedy (revert or escalate), or what the policy says.
func (r *Remediator) decide(ctx context.Context, snap snapshot.Snapshot, rec *record, now time.Time) (Outcome, error) {
	v := r.verify(snap, rec, now)
	if !v.judged {
		if out, ok, err := r.owedRevert(snap, rec.st, now); ok || err != nil {
			return out, err
		}
		return Decide(ctx, r.Policy, snap, r.Config, now)
	}
	rec.events = append(rec.events, v.event)
	snap.History = rec.st.History() // the policy sees the verdict: a failed step is no longer "done"
	if !v.healthy {
		sig, err := signals.Compute(snap, r.Config.DefaultsFor(snap.Target))
		if err != nil {
			return Outcome{}, fmt.Errorf("compute signals: %w", err)
		}
		if out, ok, err := r.afterFailure(snap, sig, v, now); ok || err != nil {
			return out, err
		}
	}
	return Decide(ctx, r.Policy, snap, r.Config, now)
}

// watch keeps an open incident that runmedic acted on or escalated in the state, so verify
// ticks come back to it. A closed one is forgotten when live memory agrees, below verify_below:
// a notification saying "closed" is a trigger, not the truth, and a forged one must not end the
// watch (and the escalation) of a real incident.
func (r *Remediator) watch(snap snapshot.Snapshot, out Outcome, rec *record) {
	inc := snap.Incident
	switch {
	case out.Step == "unpin":
		// A person released a pin; the incident it came from is watched as it was.
	case inc.State == snapshot.StateClosed:
		if mem, ok := memoryNow(snap); ok && mem < r.Config.Defaults.VerifyBelow {
			rec.st = rec.st.Unwatch(inc.ID)
		}
	case out.Decision.Action != decision.None || rec.st.Pending != nil && rec.st.Pending.Incident == inc.ID:
		rec.st = rec.st.Watch(state.Watch{Incident: inc.ID, StartedAt: inc.StartedAt, Severity: inc.Severity, URL: inc.URL, Policy: watchedPolicy(inc.Policy), Labels: inc.Labels})
	}
}

// memoryNow is the service's latest memory utilization at or before the snapshot's capture time;
// ok is false without a point.
func memoryNow(snap snapshot.Snapshot) (float64, bool) {
	for i := len(snap.Metrics.MemoryUtilization) - 1; i >= 0; i-- {
		if p := snap.Metrics.MemoryUtilization[i]; !p.At.After(snap.CapturedAt) {
			return p.Value, true
		}
	}
	return 0, false
}

// observe builds the snapshot at now and reads runmedic's state; an unreadable state annotation
// is logged and treated as empty (an unreadable ledger entry is an error).
func (r *Remediator) observe(ctx context.Context, a alert.Alert, now time.Time) (snapshot.Snapshot, state.State, int64, error) {
	snap, st, version, warning, err := r.observeAt(ctx, a, now)
	if warning != nil {
		r.log(audit.Warning, fmt.Sprintf("%s: %v; treating it as empty", a.Target.Name(), warning), a)
	}
	return snap, st, version, err
}

// describe fills the event from a decision and its plan, with the outcome a run that applies
// nothing would have.
func describe(ev audit.Event, out Outcome, history []snapshot.Action) audit.Event {
	p := out.Plan
	ev.Step = out.Step
	ev.Decision = &out.Decision
	ev.Changes = p.Changes
	ev.Guard = &p.Guard
	switch {
	case len(p.Changes) == 0 && out.Decision.Action == decision.None && alreadyActed(history, p.Incident):
		ev.Outcome = audit.Duplicate
	case len(p.Changes) == 0:
		ev.Outcome = audit.NoChange
	case !p.Guard.Allowed:
		ev.Outcome = audit.Refused
	case p.Guard.Mode == "shadow":
		ev.Outcome = audit.Shadow
	default:
		ev.Outcome = audit.NoChange
	}
	return ev
}

// alreadyActed reports whether the decision found this incident's step already taken: the
// history holds a non-failed action for it.
func alreadyActed(history []snapshot.Action, incident string) bool {
	for _, a := range history {
		if a.Incident == incident && (a.Outcome == state.OutcomeApplied || a.Outcome == state.OutcomeVerified) {
			return true
		}
	}
	return false
}

// failed publishes a failure event (best effort: the error is what matters) and returns err.
func (r *Remediator) failed(ctx context.Context, ev audit.Event, err error) (audit.Event, error) {
	ev.Outcome, ev.Error = audit.Failed, err.Error()
	ev = ev.WithID()
	if pubErr := r.publishEvent(ctx, ev); pubErr != nil {
		r.log(audit.Warning, fmt.Sprintf("publish failure event for %s: %v", ev.Target, pubErr), alert.Alert{})
	}
	return ev, err
}
