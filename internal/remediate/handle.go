package remediate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
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
	ev := newEvent(a, r.Now().UTC())
	ev.Step = "observe"
	if _, ok := r.Config.Allowed(a.Target); !ok {
		return r.refuseUnlisted(ctx, ev, a.Target) // not even read: nothing else is ever touched
	}
	f, lead := r.join(a, ev.Time)
	if !lead {
		return r.coalesced(ctx, ev, f)
	}
	var run *Run
	unlock := func() {}
	defer func() {
		// The run lands before the service's lock is let go: work that takes the lock next (the
		// tick, another incident's run) comes after the memo's generation, and so ends the memo.
		defer unlock()
		if p := recover(); p != nil {
			// Not an outcome to hand to the deliveries waiting on this run, nor to remember.
			r.land(f, run, res, fmt.Errorf("internal error: %v", p))
			panic(p)
		}
		r.land(f, run, res, err)
	}()
	locked, err := r.lockFlight(ctx, f, a.Target)
	if err != nil {
		return r.failed(ctx, ev, err)
	}
	unlock = locked
	for attempt := 1; ; attempt++ {
		run, err = r.Prepare(ctx, a)
		if errors.Is(err, state.ErrEntryUnreadable) {
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
		if errors.Is(err, snapshot.ErrConflict) && attempt < maxConflicts {
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
	// observe and remember: the live service, its metrics and logs, and the ledger.
	snap, st, version, err := r.observe(ctx, a, now)
	if err != nil {
		return nil, err
	}
	rec := record{before: st, st: st, landed: st, etag: snap.Service.Etag, version: version}
	// settle the last change: its rollout, read now that it may be done.
	rolloutFailed := r.readRollout(ctx, a.Target, &rec, now)
	if rolloutFailed {
		snap.History = rec.st.History()
	}
	rec.landed = rec.st
	// verify what is due, then decide.
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
	rec, out := run.rec, run.Outcome
	ev := describe(newEvent(run.Alert, run.now), out, run.Snapshot.History)

	// claim → apply: the change lands once, under its claim in the ledger.
	applyErr, err := r.apply(ctx, run, &ev, &rec, &out)
	if errors.Is(err, snapshot.ErrConflict) {
		return ev, err // another run claimed first, or the service moved: re-observe and decide again
	}
	if err != nil {
		return r.failed(ctx, ev, err)
	}
	// notify: people first, then the escalation steps that are due.
	if err := r.notify(ctx, run.Snapshot, out, &ev, &rec, run.now); err != nil {
		return r.failed(ctx, ev, err)
	}
	// record: watch the incident, publish the audit trail, save runmedic's memory.
	r.watch(run.Snapshot, out, &rec)
	return r.finish(ctx, run.Snapshot, ev.WithID(), rec, applyErr)
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
