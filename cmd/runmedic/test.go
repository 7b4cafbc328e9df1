package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
			"Before the tests it checks every .rego file as `opa check --strict --schema` and `opa fmt`\n"+
			"do: a strict compile, the formatting, and input references against policies/input.schema.json.\n\n"+
			"Exit codes: 0 everything passed, 1 a check, a test, a scenario or the coverage threshold failed.")
	var (
		runExpr, scenarios, output string
		threshold                  float64
		verbose, update            bool
	)
	fs.StringVar(&output, "o", "text", "output format: text, json, or junit (JUnit XML for CI)")
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
	if output != "text" && output != "json" && output != "junit" {
		return fail(e, fmt.Errorf("-o %q: want text, json or junit", output))
	}
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
	// Text goes to stdout as it happens; for json and junit the text is dropped and the results
	// are written at the end, with the policy and scenario lines on stderr.
	w, info := e.stdout, e.stdout
	if output != "text" {
		w, info = io.Discard, e.stderr
	}
	res := testResults{Policies: pf.describe(), Scenarios: "none"}
	fmt.Fprintf(info, "Policies:  %s\n", res.Policies)
	checks, err := policy.Check(pf.policyFS())
	if err != nil {
		return fail(e, err)
	}
	res.Checks = append([]policy.Finding{}, checks...)
	for _, f := range checks {
		fmt.Fprintf(w, "FAIL  %s\n", f)
	}
	if res.Rego, err = policy.Test(ctx, pf.policyFS(), cfg, run); err != nil {
		return fail(e, err)
	}
	printRegoReport(w, res.Rego, verbose)
	for _, f := range res.Rego.MissingTests {
		res.Problems = append(res.Problems, fmt.Sprintf("%s has no %s beside it: every policy file has its tests", f, strings.TrimSuffix(f, ".rego")+"_test.rego"))
	}
	if threshold > 0 {
		res.Problems = append(res.Problems, belowThreshold(res.Rego, threshold)...)
	}
	for _, p := range res.Problems {
		fmt.Fprintf(w, "FAIL  %s\n", p)
	}
	if scenarios != "" {
		if _, err := os.Stat(scenarios); err != nil {
			return fail(e, fmt.Errorf("-scenarios: %w", err))
		}
		res.Scenarios = shortPath(scenarios)
		fmt.Fprintf(info, "Scenarios: %s\n", res.Scenarios)
		res.ScenarioResults = checkScenarios(ctx, w, runner, scenarios, verbose, update)
	} else {
		fmt.Fprintln(info, "Scenarios: none (--scenarios \"\")")
	}
	res.Passed = res.passed()
	switch output {
	case "json":
		err = writeTestJSON(e.stdout, res)
	case "junit":
		err = writeJUnit(e.stdout, res)
	}
	if err != nil {
		return fail(e, err)
	}
	if !res.Passed {
		return exitError
	}
	return exitOK
}

// belowThreshold is a problem for the total coverage, and for each policy file's, below
// threshold: a file nobody tests must not hide behind a well-tested one.
func belowThreshold(rep policy.Report, threshold float64) []string {
	var out []string
	if rep.Percent < threshold {
		out = append(out, fmt.Sprintf("coverage %.1f%% is below the threshold %.1f%%", rep.Percent, threshold))
	}
	files := make([]string, 0, len(rep.Coverage))
	for f := range rep.Coverage {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		if c := rep.Coverage[f]; c.Percent < threshold {
			out = append(out, fmt.Sprintf("coverage of %s %.1f%% is below the threshold %.1f%%", f, c.Percent, threshold))
		}
	}
	return out
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// printRegoReport prints failures (every test with verbose), the counts and the coverage.
func printRegoReport(w io.Writer, rep policy.Report, verbose bool) {
	for _, t := range rep.Tests {
		if t.Outcome == policy.Pass && !verbose {
			continue
		}
		fmt.Fprintf(w, "%-5s %s.%s (%s:%d) %s\n", upper(t.Outcome), t.Package, t.Name, t.File, t.Line, t.Duration.Round(time.Microsecond))
		for line := range strings.Lines(t.Message) {
			fmt.Fprintf(w, "      %s\n", strings.TrimRight(line, "\n"))
		}
	}
	fmt.Fprintf(w, "Rego tests: %d passed, %d failed, %d errors, %d skipped\n",
		rep.Count(policy.Pass), rep.Count(policy.Fail), rep.Count(policy.Error), rep.Count(policy.Skip))
	files := make([]string, 0, len(rep.Coverage))
	for f := range rep.Coverage {
		files = append(files, f)
	}
	sort.Strings(files)
	fmt.Fprintln(w, "Coverage:")
	for _, f := range files {
		c := rep.Coverage[f]
		fmt.Fprintf(w, "  %-28s %5.1f%%", f, c.Percent)
		if len(c.NotCovered) > 0 {
			fmt.Fprintf(w, "  not covered: %s", ranges(c.NotCovered))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  %-28s %5.1f%%\n", "total", rep.Percent)
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

// checkScenarios decides every scenario under dir and compares it with its goldens (or rewrites
// them), printing failures to w as they come.
func checkScenarios(ctx context.Context, w io.Writer, runner *scenario.Runner, dir string, verbose, update bool) []scenarioResult {
	scs, err := scenario.LoadAll(dir)
	if err != nil {
		fmt.Fprintf(w, "FAIL  scenarios: %v\n", err)
		return []scenarioResult{{Name: dir, Outcome: policy.Error, Message: err.Error()}}
	}
	out := make([]scenarioResult, 0, len(scs))
	passed, failed := 0, 0
	for _, sc := range scs {
		r := checkScenario(ctx, runner, sc, update)
		out = append(out, r)
		for _, f := range r.Wrote {
			fmt.Fprintf(w, "WROTE %s\n", shortPath(f))
		}
		switch {
		case r.Outcome == policy.Pass:
			passed++
			if verbose {
				fmt.Fprintf(w, "PASS  scenario %s\n", sc.Name)
			}
		default:
			failed++
			fmt.Fprintf(w, "%-5s scenario %s", upper(r.Outcome), sc.Name)
			if r.Outcome == policy.Error {
				fmt.Fprintf(w, ": %s\n", r.Message)
			} else {
				fmt.Fprintf(w, "\n%s", indent(r.Message))
			}
		}
	}
	verb := "checked"
	if update {
		verb = "rewritten"
	}
	fmt.Fprintf(w, "Scenarios %s (%s): %d passed, %d failed\n", verb, shortPath(dir), passed, failed)
	return out
}

// checkScenario decides one scenario and compares it with its goldens, or rewrites them.
func checkScenario(ctx context.Context, runner *scenario.Runner, sc scenario.Scenario, update bool) scenarioResult {
	r := scenarioResult{Name: sc.Name, Outcome: policy.Pass}
	res := runner.Run(ctx, sc)
	var bad *policy.InvalidDecisionError
	if errors.As(res.Err, &bad) {
		// Never a golden: a decision Go refuses is a policy bug, whatever the golden says.
		r.Outcome, r.Message = policy.Error, replay.Locate(ctx, runner, res).Error()
		return r
	}
	got, err := scenario.Render(res)
	if err != nil {
		r.Outcome, r.Message = policy.Error, err.Error()
		return r
	}
	if update {
		if r.Wrote, err = scenario.WriteGoldens(sc, got); err != nil {
			r.Outcome, r.Message = policy.Error, err.Error()
		}
		return r
	}
	mm, err := scenario.Compare(sc, got)
	if err != nil {
		r.Outcome, r.Message = policy.Error, err.Error()
		return r
	}
	var msg strings.Builder
	for _, m := range mm {
		if m.Missing {
			fmt.Fprintf(&msg, "%s is missing: `runmedic test -update` writes it\n", shortPath(m.File))
			continue
		}
		fmt.Fprintf(&msg, "%s differs (-want +got):\n%s", m.File, cmp.Diff(string(m.Want), string(m.Got)))
	}
	if len(mm) > 0 {
		r.Outcome, r.Message = policy.Fail, msg.String()
	}
	return r
}

func indent(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		b.WriteString("      " + line)
	}
	return b.String()
}
