package plan

import (
	"fmt"
	"io"
	"strings"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/signals"
)

// TextOptions choose how RenderText looks. The zero value is plain text without explanation,
// which is what a pipe, a log or a golden file wants.
type TextOptions struct {
	// Color turns on ANSI colour. The CLI sets it on a terminal unless -no-color is given.
	Color bool
	// Signals, when not nil, are printed as an aligned list in their JSON field order (--explain).
	Signals *signals.Signals
	// Explain are the evaluation steps --explain prints, one line each, in order.
	Explain []string
	// ApplyCommand is the command an applyable plan ends with ("To apply: …"); empty for the
	// generic form. Apply itself sets Applying to leave it out.
	ApplyCommand string
	Applying     bool
}

// ANSI sequences, used only when TextOptions.Color is set.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

type painter bool

func (c painter) paint(code, s string) string {
	if !c {
		return s
	}
	return code + s + ansiReset
}

func (c painter) bold(s string) string { return c.paint(ansiBold, s) }

// marker colours a diff marker the way terraform does: ~ yellow, + green, - red.
func (c painter) marker(m string) string {
	switch m {
	case "~":
		return c.paint(ansiYellow, m)
	case "+":
		return c.paint(ansiGreen, m)
	case "-":
		return c.paint(ansiRed, m)
	}
	return m
}

// RenderText writes p the way `terraform plan` reads: what triggered it, what the policy decided
// and why, the diff against the live service, who will be told, the guard's verdict, and the
// one-line summary. It writes once, so w sees all of the plan or none of it.
func RenderText(w io.Writer, p Plan, opts TextOptions) error {
	c := painter(opts.Color)
	var b strings.Builder
	b.WriteString(c.bold("runmedic plan for incident "+p.Incident) + "\n")
	fmt.Fprintf(&b, "  target: %s\n", p.Target)
	if p.Etag != "" {
		fmt.Fprintf(&b, "  etag:   %s\n", p.Etag)
	}
	if opts.Signals != nil {
		b.WriteString("\n" + c.bold("Signals:") + "\n")
		writeSignals(&b, *opts.Signals)
	}
	if len(opts.Explain) > 0 {
		b.WriteString("\n" + c.bold("Explain:") + "\n")
		for _, line := range opts.Explain {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	writeDecision(&b, c, p)
	writeMemory(&b, c, p.Memory)
	if p.HasChanges() {
		b.WriteString("\nrunmedic will perform the following actions:\n\n")
		writeChanges(&b, c, p)
	}
	if v := p.Verification; v != nil {
		fmt.Fprintf(&b, "\n%s for %s after apply, memory p99 must stay below %.0f%% and the 5xx rate must not rise;", c.bold("Verification:"), v.After, v.Below*100)
		if v.Revert {
			b.WriteString(" otherwise runmedic reverts the change and escalates.\n")
		} else {
			b.WriteString(" otherwise runmedic escalates.\n")
		}
	}
	writeNotifications(&b, c, p.Notifications)
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "\n%s %s\n", c.paint(ansiYellow, "Warning:"), w)
	}
	writeLinks(&b, c, p.Links)
	writeVerdict(&b, c, p.Guard)
	if esc := escalation(p); esc != "" {
		b.WriteString("\n" + c.bold("Escalate:") + " " + esc + "\n")
	} else {
		b.WriteString("\n" + c.bold(p.Summary()) + "\n")
	}
	if why := notApplyable(p); why != "" {
		fmt.Fprintf(&b, "This plan will not be applied: %s.\n", why)
	} else if p.Applyable && p.HasChanges() && !opts.Applying {
		cmd := opts.ApplyCommand
		if cmd == "" {
			cmd = "runmedic apply --incident INCIDENT.json --live"
		}
		fmt.Fprintf(&b, "\nTo apply: %s   (re-reads the live service, shows this plan again and asks for yes)\n", cmd)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escalation is the last line of an escalate decision that changes nothing: who runmedic pages
// and when, instead of "No changes", which would read as if all were well. "" for other plans.
func escalation(p Plan) string {
	if p.Decision.Action != decision.Escalate || p.HasChanges() {
		return ""
	}
	if len(p.Notifications) == 0 {
		return "runmedic changes nothing and pages nobody: the incident is closed."
	}
	steps := make([]string, 0, len(p.Notifications))
	for _, n := range p.Notifications {
		steps = append(steps, fmt.Sprintf("%s at T+%s", n.To, n.After))
	}
	first := "page " + steps[0]
	if len(steps) > 1 {
		first += ", then " + strings.Join(steps[1:], ", ")
	}
	return "runmedic will " + first + " (T is the incident's start). Nothing on the service changes."
}

func writeLinks(b *strings.Builder, c painter, l *Links) {
	if l == nil {
		return
	}
	b.WriteString("\n" + c.bold("Links:") + "\n")
	if l.Incident != "" {
		fmt.Fprintf(b, "  incident:  %s\n", l.Incident)
	}
	fmt.Fprintf(b, "  service:   %s\n", l.Service)
	fmt.Fprintf(b, "  OOM logs:  %s\n", l.Logs)
}

func writeDecision(b *strings.Builder, c painter, p Plan) {
	d := p.Decision
	fmt.Fprintf(b, "\n%s %s (%s)", c.bold("Decision:"), d.Action, d.Diagnosis)
	if d.Policy != "" {
		fmt.Fprintf(b, " by %s", d.Policy)
	}
	b.WriteString("\n")
	if d.Reason != "" {
		fmt.Fprintf(b, "  reason: %s\n", d.Reason)
	}
	if len(d.Evidence) > 0 {
		b.WriteString("  evidence:\n")
		for _, e := range d.Evidence {
			fmt.Fprintf(b, "    - %s\n", e)
		}
	}
}

func writeNotifications(b *strings.Builder, c painter, ns []Notification) {
	if len(ns) == 0 {
		return
	}
	b.WriteString("\n" + c.bold("Notifications:") + "\n")
	to, after := 0, 0
	for _, n := range ns {
		to, after = max(to, len(n.To)), max(after, len(n.After))
	}
	for _, n := range ns {
		fmt.Fprintf(b, "  %-*s  at T+%-*s  %s\n", to, n.To, after, n.After, n.Reason)
	}
}

func writeVerdict(b *strings.Builder, c painter, v Verdict) {
	switch {
	case v.Mode == "" && !v.Allowed && len(v.Refusals) == 0:
		fmt.Fprintf(b, "\n%s not checked\n", c.bold("Guard:"))
		return
	case v.Allowed:
		fmt.Fprintf(b, "\n%s %s, mode %s\n", c.bold("Guard:"), c.paint(ansiGreen, "allowed"), v.Mode)
	default:
		fmt.Fprintf(b, "\n%s %s, mode %s\n", c.bold("Guard:"), c.paint(ansiRed, "refused"), v.Mode)
	}
	for _, r := range v.Refusals {
		fmt.Fprintf(b, "  %s %s: %s\n", c.marker("-"), r.Rule, r.Message)
	}
}

// notApplyable says why a plan with changes will not be applied, or "" when it will be (or has
// nothing to apply).
func notApplyable(p Plan) string {
	if p.Applyable || !p.HasChanges() {
		return ""
	}
	var why []string
	if len(p.Guard.Refusals) > 0 {
		rules := make([]string, 0, len(p.Guard.Refusals))
		for _, r := range p.Guard.Refusals {
			rules = append(rules, r.Rule)
		}
		why = append(why, "the guard refused it ("+strings.Join(rules, ", ")+")")
	}
	switch p.Guard.Mode {
	case config.ModeShadow:
		why = append(why, "mode is shadow (plan and record, never apply)")
	case "":
		why = append(why, "the guard has not checked it")
	}
	if len(why) == 0 {
		return "the guard did not allow it"
	}
	return strings.Join(why, "; ")
}

// serviceName is the last segment of a target resource name.
func serviceName(target string) string {
	if i := strings.LastIndex(target, "/"); i >= 0 {
		return target[i+1:]
	}
	return target
}

func isTemplatePath(path string) bool { return strings.HasPrefix(path, "template.") }
