package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/replay"
	"github.com/runmedic/runmedic/internal/scenario"
)

func runTest(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "test", "[DIR] [flags]",
		"Run the Rego unit tests (every test_ rule, as `opa test` does) with coverage, then decide\n"+
			"every scenario and compare it with its plan.golden and plan.json.golden.\n"+
			"DIR is the policy directory; the bundled policies when omitted.")
	var (
		runExpr, scenarios string
		threshold          float64
		verbose, update    bool
	)
	fs.StringVar(&runExpr, "run", "", "run only the Rego tests whose package.name matches this regular expression")
	fs.Float64Var(&threshold, "threshold", 0, "fail when Rego coverage is below this percentage")
	fs.StringVar(&scenarios, "scenarios", "tests/scenarios", "directory of scenarios to check against their goldens (\"\" to skip)")
	fs.BoolVar(&verbose, "v", false, "list every test, not only failures")
	fs.BoolVar(&update, "update", false, "rewrite the scenario goldens instead of comparing")
	var pf policyFlags
	pf.register(fs)
	dirs, code, parsed := parseInterspersed(e, fs, args)
	if !parsed {
		return code
	}
	if len(dirs) > 1 {
		return fail(e, fmt.Errorf("test takes at most one policy directory, got %d", len(dirs)))
	}
	if len(dirs) == 1 {
		pf.policiesDir = dirs[0]
	}
	var run *regexp.Regexp
	if runExpr != "" {
		var err error
		if run, err = regexp.Compile(runExpr); err != nil {
			return fail(e, fmt.Errorf("-run: %w", err))
		}
	}
	runner, err := pf.runner()
	if err != nil {
		return fail(e, err)
	}
	_, cfg, err := runner.Engine(ctx, nil)
	if err != nil {
		return fail(e, err)
	}
	rep, err := policy.Test(ctx, pf.policyFS(), cfg, run)
	if err != nil {
		return fail(e, err)
	}
	ok := printRegoReport(e, rep, verbose)
	if threshold > 0 && rep.Percent < threshold {
		fmt.Fprintf(e.stdout, "FAIL coverage %.1f%% is below the threshold %.1f%%\n", rep.Percent, threshold)
		ok = false
	}
	if scenarios != "" {
		if _, err := os.Stat(scenarios); err == nil {
			ok = checkScenarios(ctx, e, runner, scenarios, verbose, update) && ok
		} else if fs.Lookup("scenarios").Value.String() != fs.Lookup("scenarios").DefValue {
			return fail(e, fmt.Errorf("-scenarios: %w", err))
		}
	}
	if !ok {
		return exitError
	}
	return exitOK
}

// printRegoReport prints failures (every test with verbose), the counts and the coverage.
func printRegoReport(e env, rep policy.Report, verbose bool) bool {
	for _, t := range rep.Tests {
		if t.Outcome == policy.Pass && !verbose {
			continue
		}
		fmt.Fprintf(e.stdout, "%-5s %s.%s (%s:%d) %s\n", upper(t.Outcome), t.Package, t.Name, t.File, t.Line, t.Duration.Round(time.Microsecond))
		for line := range strings.Lines(t.Message) {
			fmt.Fprintf(e.stdout, "      %s\n", strings.TrimRight(line, "\n"))
		}
	}
	fmt.Fprintf(e.stdout, "Rego tests: %d passed, %d failed, %d errors, %d skipped\n",
		rep.Count(policy.Pass), rep.Count(policy.Fail), rep.Count(policy.Error), rep.Count(policy.Skip))
	files := make([]string, 0, len(rep.Coverage))
	for f := range rep.Coverage {
		files = append(files, f)
	}
	sort.Strings(files)
	fmt.Fprintln(e.stdout, "Coverage:")
	for _, f := range files {
		c := rep.Coverage[f]
		fmt.Fprintf(e.stdout, "  %-28s %5.1f%%", f, c.Percent)
		if len(c.NotCovered) > 0 {
			fmt.Fprintf(e.stdout, "  not covered: %s", ranges(c.NotCovered))
		}
		fmt.Fprintln(e.stdout)
	}
	fmt.Fprintf(e.stdout, "  %-28s %5.1f%%\n", "total", rep.Percent)
	return rep.Passed()
}

func upper(o policy.Outcome) string {
	switch o {
	case policy.Pass:
		return "PASS"
	case policy.Fail:
		return "FAIL"
	case policy.Error:
		return "ERROR"
	}
	return "SKIP"
}

func ranges(rs [][2]int) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += ","
		}
		if r[0] == r[1] {
			out += fmt.Sprint(r[0])
		} else {
			out += fmt.Sprintf("%d-%d", r[0], r[1])
		}
	}
	return out
}

// checkScenarios decides every scenario under dir and compares it with its goldens.
func checkScenarios(ctx context.Context, e env, runner *scenario.Runner, dir string, verbose, update bool) bool {
	scs, err := scenario.LoadAll(dir)
	if err != nil {
		fmt.Fprintf(e.stdout, "FAIL scenarios: %v\n", err)
		return false
	}
	passed, failed := 0, 0
	for _, sc := range scs {
		res := runner.Run(ctx, sc)
		var bad *policy.InvalidDecisionError
		if errors.As(res.Err, &bad) {
			// Never a golden: a decision Go refuses is a policy bug, whatever the golden says.
			failed++
			fmt.Fprintf(e.stdout, "ERROR scenario %s: %v\n", sc.Name, replay.Locate(ctx, runner, res))
			continue
		}
		got, err := scenario.Render(res)
		if err == nil && update {
			err = scenario.WriteGoldens(sc, got)
		}
		var mm []scenario.Mismatch
		if err == nil && !update {
			mm, err = scenario.Compare(sc, got)
		}
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(e.stdout, "ERROR scenario %s: %v\n", sc.Name, err)
		case len(mm) > 0:
			failed++
			fmt.Fprintf(e.stdout, "FAIL  scenario %s\n", sc.Name)
			for _, m := range mm {
				fmt.Fprintf(e.stdout, "      %s differs (-want +got):\n%s", m.File, cmp.Diff(string(m.Want), string(m.Got)))
			}
		default:
			passed++
			if verbose {
				fmt.Fprintf(e.stdout, "PASS  scenario %s\n", sc.Name)
			}
		}
	}
	verb := "checked"
	if update {
		verb = "rewritten"
	}
	fmt.Fprintf(e.stdout, "Scenarios %s (%s): %d passed, %d failed\n", verb, dir, passed, failed)
	return failed == 0
}
