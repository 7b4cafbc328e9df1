package remediate

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// flight is one run of Handle for a (service, incident, incident state) and, once it has ended,
// its memo. Deliveries of the same key that arrive while it runs, or while its memo holds, take
// its outcome instead of running the runbook again: a storm of redeliveries and re-notifications
// costs one run, not one run each behind the service's lock.
//
// The memo holds only while nothing else has changed what a decision on the service is made from
// (gen is the service's generation when the run ended; see keepsMemos) and only until the
// incident's next due time: its pending verification, the next step of its escalation ladder, the
// end of the cooldown or budget that refused its change, or verify_after from now when nothing is
// scheduled. A change refused by a freeze or a snooze, which end at times not known here, is not
// memoised.
type flight struct {
	key   string
	done  chan struct{} // closed when the run has ended and ev, err and until are set
	gen   uint64        // the service's generation when this run ended
	ev    audit.Event
	err   error
	until time.Time // the memo holds before it; zero: not memoised
}

// flightKey names what a run decides for: the service, the incident and whether it is open.
func flightKey(a alert.Alert) string {
	return a.Target.Name() + "\x00" + a.Incident.ID + "\x00" + a.Incident.State
}

// join returns the flight a delivery of a belongs to: one running or memoised for its key
// (lead false), or a new one this delivery runs (lead true).
func (r *Remediator) join(a alert.Alert, now time.Time) (f *flight, lead bool) {
	key, svc := flightKey(a), a.Target.Name()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.flights == nil {
		r.flights = map[string]map[string]*flight{}
	}
	byKey := r.flights[svc]
	if byKey == nil {
		byKey = map[string]*flight{}
		r.flights[svc] = byKey
	}
	if f := byKey[key]; f != nil && !r.NoCoalesce {
		select {
		case <-f.done:
			if f.gen == r.gens[svc] && now.Before(f.until) {
				return f, false
			}
		default:
			return f, false
		}
	}
	f = &flight{key: key, done: make(chan struct{})}
	byKey[key] = f
	return f, true
}

// lockFlight takes the service's lock for the flight's run. Unlike lock, it leaves the memos of
// other incidents on the service standing: the run ends them when it lands, if it changed what
// they were decided from.
func (r *Remediator) lockFlight(ctx context.Context, f *flight, target snapshot.Target) (unlock func(), err error) {
	return r.acquire(ctx, target)
}

// land ends the flight with the run's outcome and decides how long it is memoised.
func (r *Remediator) land(f *flight, run *Run, ev audit.Event, err error) {
	if err == nil && run != nil {
		f.until = r.memoUntil(run, ev)
	}
	f.ev, f.err = ev, err
	svc, _, _ := strings.Cut(f.key, "\x00") // the service's name, as flightKey wrote it
	now := r.Now()
	r.mu.Lock()
	if !keepsMemos(run, ev, err) {
		r.endMemos(svc)
	}
	for key, g := range r.flights[svc] { // forget the runs whose memo has ended
		select {
		case <-g.done:
			if g.gen != r.gens[svc] || !now.Before(g.until) {
				delete(r.flights[svc], key)
			}
		default:
		}
	}
	f.gen = r.gens[svc] // read only after done is closed
	r.mu.Unlock()
	close(f.done)
}

// keepsMemos reports whether a run left the memos of other incidents on its service standing:
// it ended well, applied nothing, and changed none of what a decision on the service is made
// from: the actions taken, the pending verification, the traffic pin, the rollout in progress.
// What it noted for its own incident (a watch, a refusal) decides nothing for another one.
// Anything else, a failure included, ends them.
func keepsMemos(run *Run, ev audit.Event, err error) bool {
	if err != nil || run == nil || ev.Applied || run.Outcome.Plan.Applyable {
		return false
	}
	switch ev.Outcome {
	case audit.Refused, audit.NoChange, audit.Duplicate:
	default:
		return false
	}
	before, after := run.rec.before, run.rec.st
	return reflect.DeepEqual(before.Actions, after.Actions) &&
		reflect.DeepEqual(before.Pending, after.Pending) &&
		reflect.DeepEqual(before.Pin, after.Pin) &&
		reflect.DeepEqual(before.Rollout, after.Rollout)
}

// memoUntil is when the memo of a run that ended well stops holding: the incident's next
// verification or escalation time. A run that leaves work the next delivery must do (a rollout
// not yet read, a message that failed, a step of the ladder held back because memory is low) is
// not memoised.
func (r *Remediator) memoUntil(run *Run, ev audit.Event) time.Time {
	now := r.Now().UTC()
	if ev.Outcome == audit.Failed || run.rec.st.Rollout != nil || (run.Outcome.Plan.Applyable && r.noWait()) {
		return time.Time{}
	}
	for _, d := range ev.Deliveries {
		if d.Outcome == audit.DeliveryFailed {
			return time.Time{}
		}
	}
	until := now.Add(r.Config.Defaults.VerifyAfter.Duration)
	earlier := func(t time.Time) {
		if t.Before(until) {
			until = t
		}
	}
	if p := run.rec.st.Pending; p != nil {
		earlier(p.VerifyAt)
	}
	if v := run.Outcome.Plan.Verification; v != nil && run.Outcome.Plan.Applyable {
		if after, err := time.ParseDuration(v.After); err == nil {
			earlier(now.Add(after))
		}
	}
	// A change the guard held back for a while may be made once the while is over.
	if !refusalEnds(run, r.Config.Defaults.Cooldown.Duration, now, earlier) {
		return time.Time{}
	}
	// A step held back inside a verification window waits for the window's end, which is a
	// due time above; one held back because memory is low may be sent at any run.
	p := run.rec.st.Pending
	windowOpen := (p != nil && now.Before(p.VerifyAt)) || run.Outcome.Plan.Applyable
	inc := run.Snapshot.Incident
	for _, n := range run.Outcome.Plan.Notifications {
		after, err := time.ParseDuration(n.After)
		if err != nil {
			return time.Time{}
		}
		at := inc.StartedAt.Add(after)
		if at.After(now) {
			earlier(at)
			continue
		}
		if after > 0 && !run.rec.st.EscalationSent(inc.ID, state.StepKey(n.To, n.After)) && !windowOpen {
			return time.Time{} // due at this run: sent, or held back while memory is low
		}
	}
	return until
}

// refusalEnds passes earlier the times at which the guard's refusals of the run's change end by
// themselves: the end of the cooldown, the first change leaving the budget's 24 hours. It is
// false when a refusal ends at a time not known here (a freeze window, a snooze).
func refusalEnds(run *Run, cooldown time.Duration, now time.Time, earlier func(time.Time)) bool {
	for _, ref := range run.Outcome.Plan.Guard.Refusals {
		switch ref.Rule {
		case guard.RuleCooldown, guard.RuleBudget:
			for _, a := range run.Snapshot.History {
				if !a.Changed() {
					continue
				}
				if end := a.At.Add(cooldown); ref.Rule == guard.RuleCooldown && end.After(now) {
					earlier(end)
				}
				if end := a.At.Add(24 * time.Hour); ref.Rule == guard.RuleBudget && end.After(now) {
					earlier(end)
				}
			}
		case guard.RuleFreeze, guard.RuleSnooze:
			return false
		}
	}
	return true
}

// coalesced is the outcome of a delivery that joined flight f: the same error, so the same ack or
// retry, and its own audit event, which repeats the run's decision without claiming its effects.
func (r *Remediator) coalesced(ctx context.Context, ev audit.Event, f *flight) (audit.Event, error) {
	select {
	case <-f.done:
	case <-ctx.Done():
		return r.failed(ctx, ev, fmt.Errorf("wait for the run of %s: %w", ev.Target, ctx.Err()))
	}
	if f.err != nil {
		ev.Step = f.ev.Step
		return r.failed(ctx, ev, f.err)
	}
	out := f.ev
	out.Time, out.Delivery, out.Warnings = ev.Time, ev.Delivery, ev.Warnings
	switch out.Outcome { // what a run after it would find: the change made, the steps sent
	case audit.Applied:
		out.Outcome = audit.Duplicate
	case audit.Escalated, audit.Verified, audit.VerificationFailed:
		out.Outcome = audit.NoChange
	}
	out.Applied, out.Result, out.Deliveries = false, nil, nil
	out = out.WithID()
	return out, r.publishEvent(ctx, out)
}
