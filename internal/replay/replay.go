// Package replay decides many scenarios at once for policy authors: a table of what the policies
// decide for every recorded incident, the differences between two policy sets on the same
// incidents ("what does my change do"), and the scoring of decisions recorded in shadow mode.
// It builds values; the CLI only parses flags and picks a format.
package replay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/signals"
)

// Row is one scenario decided: the columns people read, and the plan behind them. A scenario
// runmedic refuses (an input it cannot act on, a policy error) has Error set and no plan.
type Row struct {
	Scenario  string `json:"scenario"`
	Diagnosis string `json:"diagnosis,omitempty"`
	Action    string `json:"action,omitempty"`
	Change    string `json:"change,omitempty"` // the changes in one line, "" for none
	Guard     string `json:"guard,omitempty"`  // "allowed", "refused: cooldown", "shadow"
	Error     string `json:"error,omitempty"`  // one line
	// PolicyError marks an Error that is the policy's fault (an invalid or undefined decision, a
	// Rego error), not an input runmedic refuses: replay exits 1 on it.
	PolicyError bool             `json:"policy_error,omitempty"`
	Plan        *plan.Plan       `json:"plan,omitempty"`
	Signals     *signals.Signals `json:"signals,omitempty"` // with Options.Explain
	Steps       []policy.Step    `json:"steps,omitempty"`   // with Options.Explain: the rules that held
}

// Options choose what Decide records besides the columns.
type Options struct {
	// Explain traces every evaluation and records the signals and the rules that held. It is
	// several times slower than deciding, so it is off unless asked for.
	Explain bool
}

// Decide decides every scenario with r (in parallel, Stream) and returns the rows in the order
// of scs. Errors are per scenario, in the Row, so one broken fixture does not hide the others;
// one that cannot be read has its error in its Row too.
func Decide(ctx context.Context, r *scenario.Runner, scs []scenario.Scenario, opts Options) []Row {
	rows := make([]Row, 0, len(scs))
	for len(rows) < len(scs) {
		err := Stream(ctx, r, scs[len(rows):], opts, func(row Row) error {
			rows = append(rows, row)
			return nil
		})
		if err != nil { // the scenario after the last row could not be read
			rows = append(rows, Row{Scenario: scs[len(rows)].Name, Error: oneLine(err.Error())})
		}
	}
	return rows
}

func decideOne(ctx context.Context, r *scenario.Runner, sc scenario.Scenario, opts Options) Row {
	res := r.Run(ctx, sc)
	row := Row{Scenario: sc.Name}
	if res.Err != nil {
		row.Error = oneLine(Locate(ctx, r, res).Error())
		row.PolicyError = IsPolicyError(res.Err)
		return row
	}
	p := res.Outcome.Plan
	row.Plan = &p
	row.Diagnosis = string(p.Decision.Diagnosis)
	row.Action = string(p.Decision.Action)
	row.Change = Summarize(p.Changes)
	row.Guard = GuardText(p.Guard)
	if opts.Explain {
		sig := res.Outcome.Signals
		row.Signals = &sig
		if eng, _, err := r.Engine(ctx, sc.Config); err == nil {
			_, row.Steps, _ = eng.Explain(ctx, policy.Input{Snapshot: res.Snapshot, Signals: sig})
		}
	}
	return row
}

// IsPolicyError reports whether err is the policy's fault rather than the input's: a decision Go
// refuses, no decision at all, or Rego that does not load.
func IsPolicyError(err error) bool {
	var bad *policy.InvalidDecisionError
	var rego *policy.RegoError
	return errors.As(err, &bad) || errors.As(err, &rego) || errors.Is(err, policy.ErrUndefined)
}

// Locate adds to an invalid decision the rule that produced it, file:line, so the author knows
// which branch to fix. Any other error is returned as it is.
func Locate(ctx context.Context, r *scenario.Runner, res scenario.Result) error {
	var bad *policy.InvalidDecisionError
	if !errors.As(res.Err, &bad) {
		return res.Err
	}
	eng, cfg, err := r.Engine(ctx, res.Scenario.Config)
	if err != nil {
		return res.Err
	}
	step, ok := DecisionRule(ctx, eng, res, cfg)
	if !ok {
		return res.Err
	}
	return fmt.Errorf("%w (rule %s at %s:%d: %s)", res.Err, step.Rule, step.File, step.Line, step.Head)
}

// DecisionRule is the rule of the policy package that produced the decision for res's snapshot:
// the branch of `decision` that held. ok is false when it cannot be told (no snapshot, no
// decision rule held).
func DecisionRule(ctx context.Context, eng *policy.Engine, res scenario.Result, cfg config.Config) (policy.Step, bool) {
	if res.Snapshot.Version == 0 {
		return policy.Step{}, false
	}
	sig, err := signals.Compute(res.Snapshot, cfg.DefaultsFor(res.Snapshot.Target))
	if err != nil {
		return policy.Step{}, false
	}
	_, steps, _ := eng.Explain(ctx, policy.Input{Snapshot: res.Snapshot, Signals: sig})
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].Rule == "decision" {
			return steps[i], true
		}
	}
	return policy.Step{}, false
}

// GuardText is the guard column: "shadow" in shadow mode, "refused: r1, r2" naming the rules
// that refused, else "allowed".
func GuardText(v plan.Verdict) string {
	switch {
	case v.Mode == config.ModeShadow && refusedOnlyBy(v, "mode"):
		return "shadow"
	case !v.Allowed || len(v.Refusals) > 0:
		rules := make([]string, 0, len(v.Refusals))
		for _, r := range v.Refusals {
			rules = append(rules, r.Rule)
		}
		if len(rules) == 0 {
			return "refused"
		}
		return "refused: " + strings.Join(rules, ", ")
	}
	return "allowed"
}

// refusedOnlyBy reports whether v has no refusal other than rule.
func refusedOnlyBy(v plan.Verdict, rule string) bool {
	for _, r := range v.Refusals {
		if r.Rule != rule {
			return false
		}
	}
	return true
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
