// Package decision defines what a policy decides: one action with its diagnosis, reason, evidence
// and parameters. Policies return it as JSON; Go validates it before anything acts on it.
package decision

// Action is what the policy wants done.
type Action string

// The actions a policy may return. Any other value is an error.
const (
	None             Action = "none"
	RaiseMemory      Action = "raise_memory"
	Rollback         Action = "rollback"
	LowerConcurrency Action = "lower_concurrency"
	Restart          Action = "restart"
	Escalate         Action = "escalate"
)

// Diagnosis is the runbook root cause the policy settled on.
type Diagnosis string

// The diagnoses a policy may return. Any other value is an error.
const (
	Recovered          Diagnosis = "recovered"
	Regression         Diagnosis = "regression"
	GradualGrowth      Diagnosis = "gradual_growth"
	InsufficientMemory Diagnosis = "insufficient_memory"
	RequestSpike       Diagnosis = "request_spike"
	Unknown            Diagnosis = "unknown"
)

// Decision is a validated policy decision. Reason and Evidence are for people; no code branches on
// them.
type Decision struct {
	Action    Action    `json:"action"`
	Diagnosis Diagnosis `json:"diagnosis"`
	Reason    string    `json:"reason"`
	Evidence  []string  `json:"evidence"`
	Params    Params    `json:"params"`
	Policy    string    `json:"policy"`         // the package that decided, e.g. "runmedic.oom"
	Deny      []string  `json:"deny,omitempty"` // policy-authored refusals; they block apply
}

// Params carry what the action needs: Memory (and CPU when the memory needs more) for
// raise_memory, Revision for rollback, MaxConcurrency for lower_concurrency, Notify for anyone.
type Params struct {
	Memory         string   `json:"memory,omitempty"`
	CPU            string   `json:"cpu,omitempty"`
	Revision       string   `json:"revision,omitempty"`
	MaxConcurrency int      `json:"max_concurrency,omitempty"`
	Notify         []string `json:"notify,omitempty"`
}

// LadderUnconditional reports whether the runbook's escalation ladder goes out whatever memory
// does next: after an escalation, and after a remedy for a leak (gradual growth, or a regression
// that could not be rolled back), because a restart or a raise only buys time and the code still
// needs fixing. A decision that changes nothing (action none) is never unconditional: a later
// delivery that finds the leak already acted on leaves the ladder to the remedy's verification,
// as the ledger does not record the diagnosis a change was made for.
func (d Decision) LadderUnconditional() bool {
	switch {
	case d.Action == Escalate:
		return true
	case d.Action == None:
		return false
	default:
		return d.Diagnosis == GradualGrowth || (d.Diagnosis == Regression && d.Action != Rollback)
	}
}

// PagesNobody reports whether the decision is a recovery: the incident closed, or memory
// recovered before the alert arrived. Nobody is paged for it; the record says so.
func (d Decision) PagesNobody() bool {
	return d.Action == None && d.Diagnosis == Recovered
}
