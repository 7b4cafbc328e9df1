package main

import (
	"context"
	"errors"
	"flag"
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
			"DIR is the policy directory. Without it: ./policies, or the policies/ of the runmedic\n"+
			"checkout this runs in; the set compiled into the binary only outside a checkout (or with\n"+
			"--policies builtin). The scenarios are the checkout's tests/scenarios unless --scenarios says.\n\n"+
			"Exit codes: 0 everything passed, 1 a test, a scenario or the coverage threshold failed.")
	var (
		runExpr, scenarios string
		threshold          float64
		verbose, update    bool
	)
	fs.StringVar(&runExpr, "run", "", "run only the Rego tests whose package.name matches this regular expression")
	fs.Float64Var(&threshold, "threshold", 0, "fail when Rego coverage, in total or of any one policy file, is below this percentage (0-100)")
	fs.StringVar(&scenarios, "scenarios", "tests/scenarios", "directory of scenarios to check against their goldens (\"\" to skip; default: the checkout's tests/scenarios)")
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
		if pf.policiesDir != "" {
			return fail(e, fmt.Errorf("give the policy directory once: %s or --policies %s", dirs[0], pf.policiesDir))
		}
		pf.policiesDir = dirs[0]
	}
	pf.defaultToCheckout()
	if threshold < 0 || threshold > 100 {
		return fail(e, fmt.Errorf("-threshold %g: want a percentage from 0 to 100", threshold))
	}
	if !flagSet(fs, "scenarios") {
		cwd, err := os.Getwd()
		if err != nil {
			return fail(e, err)
		}
		if scenarios = checkoutScenarios(cwd); scenarios == "" {
			return fail(e, errors.New("no scenarios to check: there is no tests/scenarios here and this is not a runmedic checkout; "+
				"give --scenarios DIR, or --scenarios \"\" to run only the Rego tests"))
		}
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
	fmt.Fprintf(e.stdout, "Policies:  %s\n", pf.describe())
	rep, err := policy.Test(ctx, pf.policyFS(), cfg, run)
	if err != nil {
		return fail(e, err)
	}
	ok := printRegoReport(e, rep, verbose)
	for _, f := range rep.MissingTests {
		fmt.Fprintf(e.stdout, "FAIL  %s has no %s beside it: every policy file has its tests\n", f, strings.TrimSuffix(f, ".rego")+"_test.rego")
	}
	if threshold > 0 {
		ok = checkThreshold(e, rep, threshold) && ok
	}
	if scenarios != "" {
		if _, err := os.Stat(scenarios); err != nil {
			return fail(e, fmt.Errorf("-scenarios: %w", err))
		}
		fmt.Fprintf(e.stdout, "Scenarios: %s\n", shortPath(scenarios))
		ok = checkScenarios(ctx, e, runner, scenarios, verbose, update) && ok
	} else {
		fmt.Fprintln(e.stdout, "Scenarios: none (--scenarios \"\")")
	}
	if !ok {
		return exitError
	}
	return exitOK
}

// checkThreshold fails when the total coverage, or any one policy file's, is below threshold: a
// file nobody tests must not hide behind a well-tested one.
func checkThreshold(e env, rep policy.Report, threshold float64) bool {
	ok := true
	if rep.Percent < threshold {
		fmt.Fprintf(e.stdout, "FAIL  coverage %.1f%% is below the threshold %.1f%%\n", rep.Percent, threshold)
		ok = false
	}
	files := make([]string, 0, len(rep.Coverage))
	for f := range rep.Coverage {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		if c := rep.Coverage[f]; c.Percent < threshold {
			fmt.Fprintf(e.stdout, "FAIL  coverage of %s %.1f%% is below the threshold %.1f%%\n", f, c.Percent, threshold)
			ok = false
		}
	}
	return ok
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
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
	return rep.Passed() && len(rep.MissingTests) == 0
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
			var written []string
			written, err = scenario.WriteGoldens(sc, got)
			for _, f := range written {
				fmt.Fprintf(e.stdout, "WROTE %s\n", shortPath(f))
			}
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
				if m.Missing {
					fmt.Fprintf(e.stdout, "      %s is missing: `runmedic test -update` writes it\n", shortPath(m.File))
					continue
				}
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
	fmt.Fprintf(e.stdout, "Scenarios %s (%s): %d passed, %d failed\n", verb, shortPath(dir), passed, failed)
	return failed == 0
}
