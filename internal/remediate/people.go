package remediate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/message"
	"github.com/runmedic/runmedic/internal/outcome"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/sink"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// People reaches recipients through their own sinks (PagerDuty, Slack, Chat). *sink.Router is
// one.
type People interface {
	Sinks(recipient string, kind message.Kind) []sink.Kind
	Send(ctx context.Context, recipient string, to sink.Kind, in message.Input) error
}

// defaultThreshold is the runbook's warning threshold, drawn on sparklines when the alert did not
// carry its own (a verify tick).
const defaultThreshold = 0.85

// reach tells people directly, each (incident, recipient, sink, step) once: the ladder's steps
// that are due, an acknowledge while an applied remedy verifies, a resolve once it held or the
// incident closed, and a change event for every change applied. What was delivered (or refused
// for good) is recorded in rec; a passing failure is not, so the next reconcile tries again. A
// sink never fails the run: its errors are logged and listed in the result.
func (r *Remediator) reach(ctx context.Context, snap snapshot.Snapshot, out Outcome, rec *record, now time.Time) []audit.Delivery {
	if r.People == nil {
		return nil
	}
	ctx, cancel := peopleContext(ctx)
	defer cancel()
	inc := snap.Incident
	var done []audit.Delivery
	send := func(step, to string, sk sink.Kind, in message.Input) {
		key := state.DeliveryKey(step, to, string(sk))
		if rec.st.Delivered(inc.ID, key) {
			return
		}
		d := audit.Delivery{To: to, Sink: string(sk), Step: step, Outcome: audit.DeliverySent}
		err := r.People.Send(ctx, to, sk, in)
		switch {
		case err == nil:
			rec.st = rec.st.MarkDelivered(state.Delivery{Incident: inc.ID, Key: key, At: now})
		case sink.IsPermanent(err):
			d.Outcome, d.Error = audit.DeliveryRefused, err.Error()
			rec.st = rec.st.MarkDelivered(state.Delivery{Incident: inc.ID, Key: key, At: now, Refused: err.Error()})
			r.log(audit.Error, fmt.Sprintf("%s to %s via %s for %s: %v; not retried", step, to, sk, snap.Target.Name(), err), alertOf(snap))
		default:
			d.Outcome, d.Error = audit.DeliveryFailed, err.Error()
			r.log(audit.Warning, fmt.Sprintf("%s to %s via %s for %s: %v; retried on the next reconcile", step, to, sk, snap.Target.Name(), err), alertOf(snap))
		}
		done = append(done, d)
	}

	// The ladder: a recipient with two steps due at once gets one message per sink.
	told := map[string]bool{}
	due := r.dueSteps(snap, out, rec.st, now)
	for _, n := range due {
		in := r.input(message.Page, snap, out, rec.st, n, now)
		in.Next = nextStep(out, n)
		for _, sk := range r.People.Sinks(n.To, message.Page) {
			step := "page@" + n.After
			if told[n.To+"|"+string(sk)] {
				rec.st = rec.st.MarkDelivered(state.Delivery{Incident: inc.ID, Key: state.DeliveryKey(step, n.To, string(sk)), At: now})
				continue
			}
			if !rec.st.Delivered(inc.ID, state.DeliveryKey(step, n.To, string(sk))) {
				told[n.To+"|"+string(sk)] = true
			}
			send(step, n.To, sk, in)
		}
	}

	paged := pagedOn(rec.st, inc.ID)
	// An acknowledge while an applied remedy is inside its verification window.
	if p := rec.st.Pending; p != nil && p.Incident == inc.ID && now.Before(p.VerifyAt) && inc.State != snapshot.StateClosed {
		for _, pg := range paged {
			if pg.sink != sink.PagerDuty || !slices.Contains(r.People.Sinks(pg.to, message.Acknowledge), sink.PagerDuty) {
				continue
			}
			send("ack@"+p.Action, pg.to, pg.sink, r.input(message.Acknowledge, snap, out, rec.st, plan.Notification{To: pg.to, After: pg.after}, now))
		}
	}
	// A resolve once the remedy held, or the incident closed.
	if inc.State == snapshot.StateClosed || verified(rec.st, inc.ID) {
		for _, pg := range paged {
			if !slices.Contains(r.People.Sinks(pg.to, message.Resolve), pg.sink) {
				continue
			}
			send("resolve", pg.to, pg.sink, r.input(message.Resolve, snap, out, rec.st, plan.Notification{To: pg.to, After: pg.after}, now))
		}
	}
	// A change event for every change applied for the incident.
	for _, a := range rec.st.Actions {
		if a.Incident != inc.ID || len(a.Changes) == 0 {
			continue
		}
		for _, to := range r.ladder(out) {
			for _, sk := range r.People.Sinks(to, message.Changed) {
				in := r.input(message.Changed, snap, out, rec.st, plan.Notification{To: to}, now)
				in.Applied, in.Revision = true, a.Revision
				in.Notification.Action = decision.Action(a.Action)
				p := *in.Notification.Plan
				p.Changes = a.Changes
				in.Notification.Plan = &p
				send("change@"+a.Action, to, sk, in)
			}
		}
	}
	return done
}

// peopleBudget bounds the time one run spends reaching people, retries included.
const peopleBudget = 20 * time.Second

// peopleContext bounds ctx for the sinks: at most peopleBudget and a third of what is left of
// the delivery, so slow or failing sinks always leave the run time to publish its audit event and
// record its state. What does not go out in time is retried on the next reconcile.
func peopleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	budget := peopleBudget
	if dl, ok := ctx.Deadline(); ok {
		budget = min(budget, time.Until(dl)/3)
	}
	return context.WithTimeout(ctx, budget)
}

// dueSteps are the plan's notifications whose time has come (from the incident's start). Steps
// of the ladder after a remedy are conditional: they wait while the remedy verifies or memory is
// already below verify_below, unless a step was already sent on the notification topic. After an
// escalation, or a change held by a freeze or snooze, every step is unconditional.
func (r *Remediator) dueSteps(snap snapshot.Snapshot, out Outcome, st state.State, now time.Time) []plan.Notification {
	var due []plan.Notification
	if snap.Incident.State == snapshot.StateClosed {
		return nil
	}
	for _, n := range out.Plan.Notifications {
		after, err := time.ParseDuration(n.After)
		if err != nil || snap.Incident.StartedAt.Add(after).After(now) {
			continue
		}
		sent := st.EscalationSent(snap.Incident.ID, state.StepKey(n.To, n.After))
		if !sent && after > 0 && !out.Decision.LadderUnconditional() && !held(out.Plan) && r.recovering(st, out, now) {
			continue
		}
		due = append(due, n)
	}
	return due
}

// held reports whether a freeze or a snooze refused the plan's changes: runmedic notifies
// instead of changing.
func held(p plan.Plan) bool { return outcome.HeldBy(p) != "" }

// input is what a message to one recipient says at this run.
func (r *Remediator) input(kind message.Kind, snap snapshot.Snapshot, out Outcome, st state.State, n plan.Notification, now time.Time) message.Input {
	note := r.notification(snap, out, n, now)
	in := message.Input{
		Kind: kind, Notification: note, Memory: snap.Metrics.MemoryUtilization,
		Threshold: out.Signals.Threshold, VerifyBelow: r.Config.Defaults.VerifyBelow, Now: now,
	}
	if in.Threshold <= 0 {
		in.Threshold = defaultThreshold
	}
	if p := st.Pending; p != nil && p.Incident == snap.Incident.ID {
		in.VerifyAt = p.VerifyAt
	}
	// What runmedic did for the incident, as the state records it: a later step of the ladder
	// still says which change it made.
	if a, ok := lastAction(st, snap.Incident.ID); ok && len(a.Changes) > 0 && (len(out.Plan.Changes) == 0 || a.At.Equal(now)) {
		p := out.Plan
		p.Changes = a.Changes
		in.Notification.Plan = &p
		in.Applied = a.Outcome != state.OutcomeFailed
		in.Revision = a.Revision
	}
	return in
}

// lastAction is the newest recorded action of incident.
func lastAction(st state.State, incident string) (snapshot.Action, bool) {
	for _, a := range st.Actions {
		if a.Incident == incident {
			return a, true
		}
	}
	return snapshot.Action{}, false
}

// verified reports whether the newest action of incident was verified.
func verified(st state.State, incident string) bool {
	a, ok := lastAction(st, incident)
	return ok && a.Outcome == state.OutcomeVerified
}

// nextStep words the step of the ladder after n, if any.
func nextStep(out Outcome, n plan.Notification) string {
	after, _ := time.ParseDuration(n.After)
	for _, m := range out.Plan.Notifications {
		a, err := time.ParseDuration(m.After)
		if err != nil || a <= after || m.To == n.To {
			continue
		}
		cond := ""
		if !out.Decision.LadderUnconditional() && !held(out.Plan) {
			cond = " unless memory recovers"
		}
		return fmt.Sprintf("Next: %s at T+%s%s.", m.To, m.After, cond)
	}
	return ""
}

// ladder are the recipients of the escalation table and the plan, each once.
func (r *Remediator) ladder(out Outcome) []string {
	var to []string
	for _, n := range out.Plan.Notifications {
		if !slices.Contains(to, n.To) {
			to = append(to, n.To)
		}
	}
	for _, e := range r.Config.Defaults.Escalation {
		if !slices.Contains(to, e.Notify) {
			to = append(to, e.Notify)
		}
	}
	return to
}

// page is one (recipient, sink) already paged for an incident, and the step that paged it.
type page struct {
	to, after string
	sink      sink.Kind
}

// pagedOn lists the (recipient, sink) pairs a page reached for incident, oldest first, each
// once. Refused pages are left out: there is nothing to acknowledge or resolve.
func pagedOn(st state.State, incident string) []page {
	var out []page
	for _, d := range slices.Backward(st.Deliveries) {
		if d.Incident != incident || d.Refused != "" || !strings.HasPrefix(d.Key, "page@") {
			continue
		}
		parts := strings.Split(d.Key, "|")
		if len(parts) != 3 {
			continue
		}
		p := page{to: parts[1], after: strings.TrimPrefix(parts[0], "page@"), sink: sink.Kind(parts[2])}
		if !slices.ContainsFunc(out, func(q page) bool { return q.to == p.to && q.sink == p.sink }) {
			out = append(out, p)
		}
	}
	return out
}

// alertOf labels a log line with the snapshot's incident and service.
func alertOf(snap snapshot.Snapshot) alert.Alert {
	return alert.Alert{Incident: snap.Incident, Target: snap.Target}
}

// paged reports whether a page reached anyone.
func paged(ds []audit.Delivery) bool {
	return slices.ContainsFunc(ds, func(d audit.Delivery) bool {
		return d.Outcome == audit.DeliverySent && strings.HasPrefix(d.Step, "page@")
	})
}
