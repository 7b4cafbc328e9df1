// Package guard is the last check between a plan and the Cloud Run API. It does not decide what to
// do (the policies do) nor how (the plan does); it only says whether runmedic may do it now, and
// names every rule that says no, so a person reading the plan knows exactly what blocked it.
package guard

import (
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/freeze"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/quantity"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Rule names, as they appear in plan.Refusal.Rule.
const (
	RuleAllowlist = "allowlist" // the service is not on the allowlist, or its mode is off
	RuleTarget    = "target"    // the plan was made for another service than the snapshot's
	RuleMode      = "mode"      // the mode in force is neither enforce nor shadow
	RuleCeiling   = "ceiling"   // a change goes above memory_ceiling or cpu_ceiling
	RuleCooldown  = "cooldown"  // the service was changed less than cooldown ago
	RuleBudget    = "budget"    // max_actions_per_day changes were made in the last 24h
	RulePolicy    = "policy"    // a policy-authored deny
	RuleDone      = "done"      // this incident's step was already taken and has not failed
	RuleFreeze    = "freeze"    // a freeze window is in force, or the service is marked frozen
	RuleSnooze    = "snooze"    // a Monitoring snooze covers the alert policy, or snoozes cannot be read
)

// Cloud Run's own maxima, used when a ceiling is not configured.
const maxCPUMilli = 8000

// budgetWindow is the window max_actions_per_day counts over.
const budgetWindow = 24 * time.Hour

// Check returns p with its verdict set: Guard.Mode is the mode in force for the service,
// Guard.Refusals lists every rule that blocks the plan (never nil), Guard.Allowed is true when
// there is none. Applyable is true only when the guard allows the plan, the mode is enforce and
// the plan has changes: shadow mode is not a refusal, it just never applies.
//
// History is s.History (what runmedic did to this service); now is the clock, or the snapshot's
// captured_at offline. Cooldown and budget only refuse plans that change something: a plan with
// nothing to do cannot break them, and saying so would hide the real state from the reader.
// Allowlist, target, mode and policy denies are reported for every plan.
func Check(p plan.Plan, s snapshot.Snapshot, cfg config.Config, now time.Time) plan.Plan {
	refusals := []plan.Refusal{}
	add := func(rule, format string, args ...any) {
		refusals = append(refusals, plan.Refusal{Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	mode := cfg.ModeFor(s.Target)
	if _, ok := cfg.Allowed(s.Target); !ok {
		add(RuleAllowlist, "service %s is not on the allowlist", s.Target.Name())
	} else {
		// The live service's mode label narrows what the config allows; off leaves it untouched.
		var why string
		if mode, why = cfg.ModeOf(s.Target, s.Service.Labels, s.Service.Annotations); mode == config.ModeOff {
			add(RuleAllowlist, "service %s %s", s.Target.Name(), why)
		}
	}
	if p.Target != s.Target.Name() {
		add(RuleTarget, "plan is for %s, the snapshot is of %s", p.Target, s.Target.Name())
	}
	if mode != config.ModeEnforce && mode != config.ModeShadow && mode != config.ModeOff {
		add(RuleMode, "mode %q is neither %q nor %q", mode, config.ModeEnforce, config.ModeShadow)
	}
	for _, msg := range ceilings(p.Changes, cfg.Defaults) {
		add(RuleCeiling, "%s", msg)
	}
	if len(p.Changes) > 0 {
		if msg := done(s.History, p); msg != "" {
			add(RuleDone, "%s", msg)
		}
		if msg := cooldown(s.History, cfg.Defaults.Cooldown.Duration, now); msg != "" {
			add(RuleCooldown, "%s", msg)
		}
		if msg := budget(s.History, cfg.Defaults.MaxActionsPerDay, now); msg != "" {
			add(RuleBudget, "%s", msg)
		}
		if msg := freeze.Window(cfg.Freeze, now); msg != "" {
			add(RuleFreeze, "%s: runmedic notifies instead of changing", msg)
		}
		if freeze.Marked(s.Service.Labels, s.Service.Annotations) {
			add(RuleFreeze, "service %s is marked frozen (%s=true): runmedic notifies instead of changing", s.Target.Name(), freeze.Key)
		}
	}
	for _, deny := range p.Decision.Deny {
		add(RulePolicy, "%s", deny)
	}
	p.Guard = plan.Verdict{Allowed: len(refusals) == 0, Mode: mode, Refusals: refusals}
	p.Applyable = p.Guard.Allowed && mode == config.ModeEnforce && len(p.Changes) > 0
	return p
}

// Refuse returns p with one more refusal: a rule checked outside Check because it needs a live
// read (a snooze). A plan without changes is returned as it is: there is nothing to hold.
func Refuse(p plan.Plan, rule, message string) plan.Plan {
	if len(p.Changes) == 0 {
		return p
	}
	p.Guard.Refusals = append(append([]plan.Refusal{}, p.Guard.Refusals...), plan.Refusal{Rule: rule, Message: message})
	p.Guard.Allowed = false
	p.Applyable = false
	return p
}

// ceilings checks every memory and CPU value the plan would set, whatever built the plan.
// done refuses a second change for the same step of the same incident while the first has not
// failed: redeliveries and re-notifications must not act twice, whatever the policy says.
func done(history []snapshot.Action, p plan.Plan) string {
	a, ok := snapshot.AlreadyActed(history, p.Incident, string(p.Decision.Action))
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s was already applied for incident %s at %s (outcome %s)", a.Action, a.Incident, a.At.Format(time.RFC3339), a.Outcome)
}

func ceilings(changes []snapshot.Change, d config.Defaults) []string {
	var out []string
	memMax, cpuMax := int64(quantity.MaxMemoryMiB), int64(maxCPUMilli)
	if d.MemoryCeiling != "" {
		m, err := quantity.ParseMemory(d.MemoryCeiling)
		if err != nil {
			return []string{fmt.Sprintf("memory_ceiling: %v", err)}
		}
		memMax = min(m, memMax)
	}
	if d.CPUCeiling != "" {
		c, err := quantity.ParseCPU(d.CPUCeiling)
		if err != nil {
			return []string{fmt.Sprintf("cpu_ceiling: %v", err)}
		}
		cpuMax = min(c, cpuMax)
	}
	for _, ch := range changes {
		after := ch.After.String()
		switch ch.Path {
		case snapshot.PathMemory:
			m, err := quantity.ParseMemory(after)
			if err != nil {
				out = append(out, fmt.Sprintf("%s: %v", ch.Path, err))
			} else if m > memMax {
				out = append(out, fmt.Sprintf("%s %s is above the ceiling %s", ch.Path, after, quantity.FormatMemory(memMax)))
			}
		case snapshot.PathCPU:
			c, err := quantity.ParseCPU(after)
			if err != nil {
				out = append(out, fmt.Sprintf("%s: %v", ch.Path, err))
			} else if c > cpuMax {
				out = append(out, fmt.Sprintf("%s %s is above the ceiling %s", ch.Path, after, quantity.FormatCPU(cpuMax)))
			}
		}
	}
	return out
}

// cooldown refuses when the newest recorded change is younger than the cooldown. A change
// recorded in the future (clock skew) counts as just made.
func cooldown(history []snapshot.Action, window time.Duration, now time.Time) string {
	if window <= 0 {
		return ""
	}
	var last *snapshot.Action
	for i, a := range history {
		if a.Changed() && (last == nil || a.At.After(last.At)) {
			last = &history[i]
		}
	}
	if last == nil {
		return ""
	}
	age := now.Sub(last.At)
	if age >= window {
		return ""
	}
	return fmt.Sprintf("last change was %s ago (%s for incident %s); cooldown is %s, next change allowed at %s",
		plan.FormatDuration(max(age, 0).Round(time.Second)), last.Action, last.Incident,
		plan.FormatDuration(window), last.At.Add(window).UTC().Format(time.RFC3339))
}

// budget refuses when max changes were already made in the last 24 hours. A budget of 0 allows
// no automated change at all.
func budget(history []snapshot.Action, maxPerDay int, now time.Time) string {
	n := 0
	for _, a := range history {
		if a.Changed() && now.Sub(a.At) < budgetWindow {
			n++
		}
	}
	if n < maxPerDay {
		return ""
	}
	return fmt.Sprintf("%d changes in the last 24h, the budget is %d a day; escalate instead", n, maxPerDay)
}
