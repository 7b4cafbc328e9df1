package snapshot

// Outcome is how something runmedic did ended: an action in the service's history
// (Action.Outcome) or the handling of one delivery (the audit trail's events). It is one type for
// both, so an outcome read back from the ledger and one published on the audit topic compare
// without conversion. Consumers filter and alert on it, so the set only grows.
type Outcome string

// The outcomes of an action, as Action.Outcome records them. An audit event carries them too,
// with the meanings its own constants below give.
const (
	OutcomeApplied  Outcome = "applied"  // changed, awaiting verification; in an event: the change was made and its revision is ready
	OutcomeVerified Outcome = "verified" // stable below verify_below after verify_after
	OutcomeFailed   Outcome = "failed"   // not stable after verify_after, or its revision never became Ready; in an event: an error stopped the run
	OutcomeReverted Outcome = "reverted" // failed and undone
)

// The outcomes only an audit event carries.
const (
	OutcomeNoChange           Outcome = "no_change"           // the live service already matches the decision
	OutcomeRefused            Outcome = "refused"             // the guard or a policy deny blocked the plan
	OutcomeShadow             Outcome = "shadow"              // shadow mode: planned and recorded, not applied
	OutcomeEscalated          Outcome = "escalated"           // a notification was sent instead of, or with, a change
	OutcomeDuplicate          Outcome = "duplicate"           // this (service, incident, step) was already handled
	OutcomeIgnored            Outcome = "ignored"             // nothing to act on: test notification, other resource, stale
	OutcomeVerificationFailed Outcome = "verification_failed" // after verify_after memory was still high
)

// Acted reports whether a is a change that landed and has not failed. It is the one definition
// of "already acted": the signal already_acted, the guard's done rule and the audit outcome
// duplicate all judge by it, so a redelivery is recognised the same way everywhere.
func (a Action) Acted() bool {
	return a.Changed() && (a.Outcome == OutcomeApplied || a.Outcome == OutcomeVerified)
}

// AlreadyActed returns the newest action of history (newest first) that Acted for incident, and
// for step unless step is "".
func AlreadyActed(history []Action, incident, step string) (Action, bool) {
	for _, a := range history {
		if a.Incident == incident && (step == "" || a.Action == step) && a.Acted() {
			return a, true
		}
	}
	return Action{}, false
}
