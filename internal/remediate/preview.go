package remediate

import (
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/message"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Preview is one message a decision would send, before any sink is chosen.
type Preview struct {
	To    string // the recipient, as the escalation table names it
	Step  string // page@5m, change@raise_memory
	Input message.Input
}

// Previews are the messages out would send, as `runmedic plan --messages` shows them: every step
// of the plan's ladder, each worded as it would be at now against the state snap records, and the
// change event of an applyable plan.
func Previews(cfg config.Config, snap snapshot.Snapshot, out Outcome, now time.Time) []Preview {
	r := &Remediator{Config: cfg}
	st := state.State{Actions: snap.History}
	var ps []Preview
	for _, n := range out.Plan.Notifications {
		in := r.input(message.Page, snap, out, st, n, now)
		in.Next = nextStep(out, n)
		ps = append(ps, Preview{To: n.To, Step: "page@" + n.After, Input: in})
	}
	// Every PagerDuty recipient gets the same change event: show it once.
	if to := r.ladder(out); out.Plan.Applyable && len(to) > 0 {
		in := r.input(message.Changed, snap, out, st, plan.Notification{To: to[0]}, now)
		ps = append(ps, Preview{To: to[0], Step: "change@" + out.Step, Input: in})
	}
	return ps
}
