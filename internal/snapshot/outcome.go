package snapshot

// Action outcomes, as Action.Outcome records them.
const (
	OutcomeApplied  = "applied"  // changed, awaiting verification
	OutcomeVerified = "verified" // stable below the threshold after verify_after
	OutcomeFailed   = "failed"   // not stable after verify_after, or its revision never became Ready
	OutcomeReverted = "reverted" // failed and undone
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
