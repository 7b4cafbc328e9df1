package policy

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/runmedic/runmedic/internal/config"
)

// Outcome is how one Rego test ended, as `opa test` reports it.
type Outcome string

// Outcomes.
const (
	Pass  Outcome = "pass"
	Fail  Outcome = "fail"  // the test body did not hold
	Error Outcome = "error" // evaluation failed (conflict, builtin error, timeout)
	Skip  Outcome = "skip"  // a todo_test_ rule
)

// TestResult is one test_ rule's run.
type TestResult struct {
	Name     string        `json:"name"`
	Package  string        `json:"package"` // e.g. "runmedic.oom_test"
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Outcome  Outcome       `json:"outcome"`
	Message  string        `json:"message,omitempty"` // where it failed, or the error
	Duration time.Duration `json:"duration"`
}

// FileCoverage is the share of one policy file's lines that the tests evaluated.
type FileCoverage struct {
	Percent         float64  `json:"percent"`
	CoveredLines    int      `json:"covered_lines"`
	NotCoveredLines int      `json:"not_covered_lines"`
	NotCovered      [][2]int `json:"not_covered,omitempty"` // [first, last] line ranges
}

// Report is a whole test run: every result, sorted by file and line, and the coverage of the
// policy files (test files are not counted).
type Report struct {
	Tests    []TestResult            `json:"tests"`
	Coverage map[string]FileCoverage `json:"coverage"`
	Percent  float64                 `json:"percent"` // over all policy files
	// MissingTests are policy files without a sibling _test.rego: a deleted test file must not
	// go unnoticed.
	MissingTests []string `json:"missing_tests,omitempty"`
}

// Passed reports whether no test failed or errored.
func (r Report) Passed() bool {
	for _, t := range r.Tests {
		if t.Outcome == Fail || t.Outcome == Error {
			return false
		}
	}
	return true
}

// Count is how many tests ended with o.
func (r Report) Count(o Outcome) int {
	n := 0
	for _, t := range r.Tests {
		if t.Outcome == o {
			n++
		}
	}
	return n
}

// Test runs every test_ rule in fsys (run, when not nil, selects tests by name as
// `opa test --run` does) with cfg as data.runmedic.config, and measures coverage. Failing tests
// are in the Report, not the error; the error is for policies that do not load or compile.
func Test(ctx context.Context, fsys fs.FS, cfg config.Config, run *regexp.Regexp) (Report, error) {
	modules, err := loadModules(fsys, true)
	if err != nil {
		return Report{}, err
	}
	store, err := configStore(cfg)
	if err != nil {
		return Report{}, err
	}
	filter := ""
	if run != nil {
		filter = run.String()
	}
	cov := cover.New()
	runner := tester.NewRunner().
		SetCompiler(ast.NewCompiler()).
		SetStore(store).
		SetModules(modules).
		SetCoverageQueryTracer(cov).
		SetCoverageRuns([]cover.Kind{}).
		CapturePrintOutput(false).
		Filter(filter)

	var rep Report
	err = storage.Txn(ctx, store, storage.TransactionParams{}, func(txn storage.Transaction) error {
		ch, err := runner.RunTests(ctx, txn)
		if err != nil {
			return regoError(err)
		}
		for r := range ch {
			rep.Tests = append(rep.Tests, testResult(r))
		}
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("run policy tests: %w", err)
	}
	explainFailures(ctx, modules, store, &rep)
	sort.Slice(rep.Tests, func(i, j int) bool {
		a, b := rep.Tests[i], rep.Tests[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})

	policyModules := map[string]*ast.Module{}
	for name, m := range modules {
		if !isTest(name) {
			policyModules[name] = m
		}
	}
	// The report also lists every file the tests touched (the tests themselves); only the
	// policy files count, in the total too.
	cr := cov.Report(policyModules)
	rep.Coverage = map[string]FileCoverage{}
	var covered, notCovered int
	for name := range policyModules {
		fc := FileCoverage{}
		if f := cr.Files[name]; f != nil {
			fc.Percent, fc.CoveredLines, fc.NotCoveredLines = f.Coverage, f.CoveredLines, f.NotCoveredLines
			for _, r := range f.NotCovered {
				fc.NotCovered = append(fc.NotCovered, [2]int{r.Start.Row, r.End.Row})
			}
			fc.NotCovered = mergeRanges(fc.NotCovered)
		}
		covered += fc.CoveredLines
		notCovered += fc.NotCoveredLines
		rep.Coverage[name] = fc
		if _, ok := modules[strings.TrimSuffix(name, ".rego")+"_test.rego"]; !ok {
			rep.MissingTests = append(rep.MissingTests, name)
		}
	}
	sort.Strings(rep.MissingTests)
	if covered+notCovered > 0 {
		rep.Percent = 100 * float64(covered) / float64(covered+notCovered)
	}
	return rep, nil
}

func testResult(r *tester.Result) TestResult {
	t := TestResult{Name: r.Name, Package: strings.TrimPrefix(r.Package, "data."), Duration: r.Duration, Outcome: Pass}
	if r.Location != nil {
		t.File, t.Line = r.Location.File, r.Location.Row
	}
	switch {
	case r.Error != nil:
		t.Outcome, t.Message = Error, r.Error.Error()
	case r.Fail:
		t.Outcome = Fail
		t.Message = fmt.Sprintf("%s did not hold", r.Name)
		if r.FailedAt != nil && r.FailedAt.Location != nil {
			t.Message = fmt.Sprintf("failed at %s:%d: %s", r.FailedAt.Location.File, r.FailedAt.Location.Row, r.FailedAt)
		}
	case r.Skip:
		t.Outcome = Skip
	}
	return t
}

// mergeRanges sorts line ranges and merges those that overlap or touch, so each line is listed
// once (OPA's report can name a line in more than one range).
func mergeRanges(rs [][2]int) [][2]int {
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] || rs[i][0] == rs[j][0] && rs[i][1] < rs[j][1] })
	var out [][2]int
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] <= out[n-1][1]+1 {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}
