package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/replay"
	"github.com/runmedic/runmedic/internal/scenario"
)

func runReplay(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "replay", "DIR... [flags] | --history FILE",
		"Decide every scenario under each DIR (a scenario folder or a folder of them) and print a\n"+
			"table: scenario, diagnosis, action, change, guard. With --against POLICYDIR, decide them\n"+
			"with both policy sets and list only the scenarios that differ, before and after.\n"+
			"With --history FILE, score the decisions recorded in shadow mode (audit events, JSON lines).\n\n"+
			"Without --against the policies are --policies, else the checkout's policies/ (the built-in set\n"+
			"outside a checkout); with it, the base is --policies, else the set built into this binary.\n\n"+
			"Exit codes: 0 done (with --against: nothing differs), 2 the policy sets differ, 1 an error or\n"+
			"a scenario the policy failed to decide.")
	var (
		pf              policyFlags
		against, output string
		history         string
		explain         bool
		within          time.Duration
	)
	pf.register(fs)
	fs.StringVar(&against, "against", "", "policy directory to compare with the base set (--policies, else the set built into this binary)")
	fs.StringVar(&output, "o", "text", "output format: text, json, csv or markdown")
	fs.BoolVar(&explain, "explain", false, "also record the signals and the rules that held for each scenario")
	fs.StringVar(&history, "history", "", "audit events (JSON lines) whose shadow-mode decisions to score")
	fs.DurationVar(&within, "within", 30*time.Minute, "with --history: a close this soon after the decision counts as closed by itself")
	dirs, code, ok := parseInterspersed(e, fs, args)
	if !ok {
		return code
	}
	format, err := replay.ParseFormat(output)
	if err != nil {
		return fail(e, fmt.Errorf("-o: %w", err))
	}
	if history != "" {
		if len(dirs) > 0 || against != "" {
			return fail(e, errors.New("--history scores recorded decisions: give no scenario directories and no --against"))
		}
		return scoreHistory(e, history, within, format)
	}
	if len(dirs) == 0 {
		return fail(e, errors.New("give at least one scenario directory (or --history FILE)"))
	}
	var scs []scenario.Scenario
	for _, dir := range dirs {
		found, err := scenario.List(dir) // read a few at a time as they are decided
		if err != nil {
			return fail(e, err)
		}
		scs = append(scs, found...)
	}
	if against == "" {
		pf.defaultToCheckout()
	}
	base, err := checkedRunner(ctx, pf.policiesDir, pf.configFile)
	if err != nil {
		return fail(e, err)
	}
	var other *scenario.Runner
	if against != "" {
		if other, err = checkedRunner(ctx, against, pf.configFile); err != nil {
			return fail(e, fmt.Errorf("--against %s: %w", against, err))
		}
		fmt.Fprintf(e.stderr, "Before:    %s\nAfter:     %s (--against)\n", pf.describe(), policyFlags{policiesDir: against}.describe())
	} else {
		fmt.Fprintf(e.stderr, "Policies:  %s\n", pf.describe())
	}
	fmt.Fprintf(e.stderr, "Scenarios: %s\n", strings.Join(shortPaths(dirs), " "))
	opts := replay.Options{Explain: explain}

	// The table's columns are all a row needs unless the plans are printed (JSON) or compared.
	keepPlans := format == replay.JSON || against != ""
	rows, err := decideAll(ctx, base, scs, opts, keepPlans)
	if err != nil {
		return fail(e, err)
	}
	if against == "" {
		if err := replay.WriteRows(e.stdout, rows, format); err != nil {
			return fail(e, err)
		}
		if n := policyErrors(rows); n > 0 {
			fmt.Fprintf(e.stderr, "Error: the policies failed to decide %d of %d scenarios (the error column says why)\n", n, len(rows))
			return exitError
		}
		return exitOK
	}
	after, err := decideAll(ctx, other, scs, opts, keepPlans)
	if err != nil {
		return fail(e, err)
	}
	cmp := replay.Compare(rows, after)
	if err := replay.WriteComparison(e.stdout, cmp, format); err != nil {
		return fail(e, err)
	}
	if len(cmp.Diffs) > 0 {
		return exitChanges
	}
	return exitOK
}

// decideAll decides scs in parallel and keeps the rows, in order, for the table, with their
// plans only if keepPlans; the scenarios' files are read as they are decided and not kept.
func decideAll(ctx context.Context, r *scenario.Runner, scs []scenario.Scenario, opts replay.Options, keepPlans bool) ([]replay.Row, error) {
	rows := make([]replay.Row, 0, len(scs))
	err := replay.Stream(ctx, r, scs, opts, func(row replay.Row) error {
		if !keepPlans {
			row.Plan = nil
		}
		rows = append(rows, row)
		return nil
	})
	return rows, err
}

// parseInterspersed parses flags given before, between or after the directories, as people
// type them (`runmedic replay tests/scenarios --against new/`), and returns the directories.
func parseInterspersed(e env, fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(e, fs, args); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return positional, 0, true
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// checkedRunner is a scenario runner over the policy set in dir ("" for the bundled one), with the
// same config as every other command (policyFlags.runner), whose policies are known to compile:
// a broken set is one error, not a table in which every scenario differs.
func checkedRunner(ctx context.Context, dir, configFile string) (*scenario.Runner, error) {
	r, err := policyFlags{policiesDir: dir, configFile: configFile}.runner()
	if err != nil {
		return nil, err
	}
	if _, _, err := r.Engine(ctx, nil); err != nil {
		return nil, err
	}
	return r, nil
}

func policyErrors(rows []replay.Row) int {
	n := 0
	for _, r := range rows {
		if r.PolicyError {
			n++
		}
	}
	return n
}

func shortPaths(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = shortPath(p)
	}
	return out
}

func scoreHistory(e env, path string, within time.Duration, f replay.Format) int {
	file, err := os.Open(path)
	if err != nil {
		return fail(e, fmt.Errorf("--history: %w", err))
	}
	defer file.Close()
	events, err := replay.ReadHistory(file, path)
	if err != nil {
		return fail(e, err)
	}
	if err := replay.WriteScores(e.stdout, replay.ScoreShadow(events, within), within, f); err != nil {
		return fail(e, err)
	}
	return exitOK
}
