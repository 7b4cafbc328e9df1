package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func runPlan(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "plan", "--incident F (--snapshot F | --live) [flags]",
		"Decide what runmedic would do for an incident and print the plan. Nothing is changed.\n"+
			"--incident takes the notification JSON as Cloud Monitoring sends it (raw, a Pub/Sub push\n"+
			"body, or a CloudEvent); its incident and target replace the snapshot's.\n\n"+
			"Exit codes: 0 no changes, 2 the plan has changes and may be applied, 3 the plan has changes\n"+
			"that will not be applied (the guard refused them, or shadow mode), 1 error.")
	var (
		pf                         policyFlags
		incident, snapFile, output string
		service                    string
		live, explain, noColor     bool
		messages                   bool
	)
	fs.StringVar(&incident, "incident", "", "notification JSON file (required)")
	fs.StringVar(&snapFile, "snapshot", "", "snapshot JSON file to decide against (offline; now = captured_at)")
	fs.BoolVar(&live, "live", false, "read the live service and its metrics instead of a snapshot (read-only)")
	fs.StringVar(&service, "service", "", "with --live: projects/P/locations/L/services/S to read instead of the incident's")
	fs.StringVar(&output, "o", "text", "output format: text or json")
	fs.BoolVar(&explain, "explain", false, "also print the signals, why each branch of the decision above the winner did not fire, and the rules that held")
	explainAll := fs.Bool("explain-all", false, "with --explain: also list the constants and functions that held")
	fs.BoolVar(&noColor, "no-color", false, "never colour the output")
	fs.BoolVar(&messages, "messages", false, "also print the PagerDuty, Slack and Chat messages the decision would send")
	pf.register(fs)
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if output != "text" && output != "json" {
		return fail(e, fmt.Errorf("-o %q: want text or json", output))
	}
	if messages && output != "text" {
		return fail(e, errors.New("--messages prints text: leave -o at text"))
	}
	if live == (snapFile != "") {
		return fail(e, errors.New("give exactly one of --snapshot F or --live"))
	}
	sc, err := readScenario(incident, snapFile)
	if err != nil {
		return fail(e, err)
	}
	runner, err := pf.runner()
	if err != nil {
		return fail(e, err)
	}
	eng, cfg, err := runner.Engine(ctx, sc.Config)
	if err != nil {
		return fail(e, err)
	}
	var (
		s   snapshot.Snapshot
		out remediate.Outcome
	)
	if live {
		s, out, err = livePlan(ctx, e, sc, service, eng, cfg)
	} else if s, err = sc.Prepare(); err == nil {
		out, err = remediate.Decide(ctx, eng, s, cfg, s.CapturedAt)
	}
	if err != nil {
		return fail(e, err)
	}
	opts := plan.TextOptions{
		Color:        e.stdoutIsTerminal && !noColor && e.getenv("NO_COLOR") == "",
		ApplyCommand: applyCommand(e.program, incident, service, pf),
	}
	explain = explain || *explainAll
	var ex policy.Explanation
	if explain {
		if _, ex, err = eng.ExplainDecision(ctx, policy.Input{Snapshot: s, Signals: out.Signals}); err != nil {
			return fail(e, err)
		}
		opts.Signals = &out.Signals
		opts.Explain = explainLines(ex, *explainAll)
	}
	if output == "json" && explain {
		err = plan.RenderJSONExplained(e.stdout, out.Plan, jsonExplanation{Signals: out.Signals, Branches: ex.Branches, Steps: ex.Steps})
	} else {
		err = render(e, out.Plan, output, opts)
	}
	if err != nil {
		return fail(e, err)
	}
	if messages {
		if err := printPreviews(e.stdout, remediate.Previews(cfg, s, out, s.CapturedAt)); err != nil {
			return fail(e, err)
		}
	}
	return planExit(out.Plan)
}

// planExit is plan's exit code: 0 nothing to change, 2 changes to apply, 3 changes that will not
// be applied, so a script can tell "apply this" from "a person must look".
func planExit(p plan.Plan) int {
	switch {
	case !p.HasChanges():
		return exitOK
	case !p.Applyable:
		return exitRefused
	}
	return exitChanges
}

// applyCommand is the command that applies this plan, for the line an applyable plan ends with.
func applyCommand(program, incident, service string, pf policyFlags) string {
	if program == "" {
		program = "runmedic"
	}
	args := []string{shellQuote(program), "apply", "--incident", shellQuote(incident), "--live"}
	if service != "" {
		args = append(args, "--service", shellQuote(service))
	}
	if pf.policiesDir != "" {
		args = append(args, "--policies", shellQuote(pf.policiesDir))
	}
	if pf.configFile != "" {
		args = append(args, "--config", shellQuote(pf.configFile))
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// jsonExplanation is the "explain" key of `plan --explain -o json`: the signals the policies saw
// and the rules that held, in evaluation order.
type jsonExplanation struct {
	Signals  signals.Signals `json:"signals"`
	Branches []policy.Branch `json:"branches"`
	Steps    []policy.Step   `json:"steps"`
}

// explainLines is the Explain section: the decision's branches in priority order, each above the
// winner with the condition that failed, the winner with its source line, then the rules that
// held with their METADATA titles (constants and functions only with all).
func explainLines(ex policy.Explanation, all bool) []string {
	var out []string
	if len(ex.Branches) > 0 {
		out = append(out, "decision, branches in priority order (the first that holds wins):")
		for _, b := range ex.Branches {
			where := fmt.Sprintf("%s:%d", b.File, b.Line)
			if b.Held {
				out = append(out, fmt.Sprintf("  %-11s %s", where, b.Head), fmt.Sprintf("  %-11s ^ this branch decided", ""))
				break
			}
			out = append(out, fmt.Sprintf("  %-11s %s", where, b.Head), fmt.Sprintf("  %-11s   not taken: %s", "", b.Why))
		}
	}
	hidden := 0
	var held []string
	for _, st := range ex.Steps {
		if st.Helper && !all {
			hidden++
			continue
		}
		line := "  " + st.String()
		if st.Title != "" {
			line += "   # " + st.Title
		}
		held = append(held, line)
	}
	head := "rules that held:"
	if hidden > 0 {
		head = fmt.Sprintf("rules that held (%d constants and functions hidden; --explain-all shows them):", hidden)
	}
	return append(append(out, head), held...)
}

func render(e env, p plan.Plan, output string, opts plan.TextOptions) error {
	if output == "json" {
		return plan.RenderJSON(e.stdout, p)
	}
	return plan.RenderText(e.stdout, p, opts)
}
