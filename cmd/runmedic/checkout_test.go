package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newCheckout writes a small runmedic checkout into a temporary directory: go.mod, a copy of the
// policies (with one extra Rego test to tell them from the built-in set) and two scenarios.
func newCheckout(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(rel string, b []byte) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(rel string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("..", "..", rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write("go.mod", []byte("module "+modulePath+"\n\ngo 1.26\n"))
	for _, f := range []string{"policies/oom.rego", "policies/oom_test.rego", "policies/data/config.yaml"} {
		write(f, read(f))
	}
	write("policies/checkout_test.rego", []byte("package runmedic.oom_test\n\ntest_only_in_the_checkout := true\n"))
	for _, sc := range []string{"insufficient-memory", "regression-rollback"} {
		for _, f := range []string{"incident.json", "snapshot.json", "plan.golden", "plan.json.golden"} {
			rel := filepath.Join("tests", "scenarios", sc, f)
			write(rel, read(rel))
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "internal", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestTestDefaultsToCheckoutPolicies(t *testing.T) {
	root := newCheckout(t)
	tests := []struct {
		name, dir   string
		args        []string
		contains    []string
		notContains []string
	}{
		{"at the root", root, []string{"test", "-v"},
			[]string{"Policies:  ./policies", "test_only_in_the_checkout", "Scenarios: ./tests/scenarios", "2 passed, 0 failed"}, nil},
		{"below the root", filepath.Join(root, "internal", "deep"), []string{"test", "-v"},
			[]string{"Policies:  ../../policies", "test_only_in_the_checkout", "Scenarios: ../../tests/scenarios", "2 passed, 0 failed"}, nil},
		{"builtin on request", root, []string{"test", "-v", "--policies", "builtin"},
			[]string{"Policies:  built in (compiled into this binary)", "Scenarios: ./tests/scenarios"}, []string{"test_only_in_the_checkout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(tt.dir)
			code, out, errOut := runCLI(t, nil, tt.args...)
			if code != exitOK {
				t.Fatalf("runmedic %v in %s = exit %d, want 0\n%s%s", tt.args, tt.dir, code, out, errOut)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("runmedic %v output lacks %q:\n%s", tt.args, s, out)
				}
			}
			for _, s := range tt.notContains {
				if strings.Contains(out, s) {
					t.Errorf("runmedic %v output has %q:\n%s", tt.args, s, out)
				}
			}
		})
	}
}

// Outside a checkout there are no goldens to check: saying so beats passing without them.
func TestTestFromAnotherDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := runCLI(t, nil, "test")
	if code != exitError || !strings.Contains(errOut, "no scenarios to check") || !strings.Contains(errOut, `--scenarios ""`) {
		t.Errorf("runmedic test outside a checkout = exit %d, stderr %q; want exit 1 saying there are no scenarios\n%s", code, errOut, out)
	}
	code, out, _ = runCLI(t, nil, "test", "--scenarios", "")
	if code != exitOK || !strings.Contains(out, "Policies:  built in") || !strings.Contains(out, `Scenarios: none (--scenarios "")`) {
		t.Errorf("runmedic test --scenarios \"\" outside a checkout = exit %d, want 0 with the built-in set\n%s", code, out)
	}
}

func TestTestUpdateListsRewrittenGoldens(t *testing.T) {
	root := newCheckout(t)
	t.Chdir(root)
	stale := filepath.Join("tests", "scenarios", "regression-rollback", "plan.golden")
	if err := os.WriteFile(stale, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join("tests", "scenarios", "insufficient-memory", "plan.json.golden")
	if err := os.Remove(missing); err != nil {
		t.Fatal(err)
	}

	code, out, _ := runCLI(t, nil, "test")
	if code != exitError {
		t.Fatalf("runmedic test with a stale and a missing golden = exit %d, want 1\n%s", code, out)
	}
	if want := "./" + missing + " is missing"; !strings.Contains(out, want) {
		t.Errorf("runmedic test output lacks %q:\n%s", want, out)
	}
	if strings.Contains(out, missing+" differs") {
		t.Errorf("runmedic test shows a missing golden as a diff:\n%s", out)
	}

	code, out, _ = runCLI(t, nil, "test", "-update")
	if code != exitOK {
		t.Fatalf("runmedic test -update = exit %d, want 0\n%s", code, out)
	}
	var wrote []string
	for line := range strings.Lines(out) {
		if rest, ok := strings.CutPrefix(line, "WROTE "); ok {
			wrote = append(wrote, strings.TrimSpace(rest))
		}
	}
	want := []string{"./" + missing, "./" + stale}
	if strings.Join(wrote, " ") != strings.Join(want, " ") {
		t.Errorf("runmedic test -update wrote %q, want exactly %q\n%s", wrote, want, out)
	}
	if code, out, _ := runCLI(t, nil, "test"); code != exitOK {
		t.Errorf("runmedic test after -update = exit %d, want 0\n%s", code, out)
	}
}

func TestTestCoverageAndThreshold(t *testing.T) {
	root := newCheckout(t)
	t.Chdir(root)
	untested := "package runmedic.oom\n\nbig_revision if input.signals.memory_limit_mib > 8192\n"
	if err := os.WriteFile(filepath.Join("policies", "extra.rego"), []byte(untested), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("policies", "extra_test.rego"), []byte("package runmedic.oom_test\n\ntest_nothing := true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		absent   []string
	}{
		{"a file at 0% fails a threshold the total meets", []string{"test", "--scenarios", "", "--threshold", "90"}, exitError,
			[]string{"FAIL  coverage of extra.rego 0.0% is below the threshold 90.0%"}, []string{"FAIL  coverage 9"}},
		{"--run reports each uncovered line once", []string{"test", "--scenarios", "", "--run", "regression_rolls_back"}, exitOK,
			[]string{"1 passed"}, []string{"16,16", "oom.rego                       0.0%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, tt.args...)
			if code != tt.code {
				t.Fatalf("runmedic %v = exit %d, want %d\n%s%s", tt.args, code, tt.code, out, errOut)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("runmedic %v output lacks %q:\n%s", tt.args, s, out)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("runmedic %v output has %q:\n%s", tt.args, s, out)
				}
			}
		})
	}

	if code, _, errOut := runCLI(t, nil, "test", "--threshold", "120"); code != exitError || !strings.Contains(errOut, "want a percentage from 0 to 100") {
		t.Errorf("runmedic test --threshold 120 = exit %d, stderr %q; want exit 1 refusing it", code, errOut)
	}

	if err := os.Remove(filepath.Join("policies", "extra_test.rego")); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, nil, "test", "--scenarios", "")
	if code != exitError || !strings.Contains(out, "extra.rego has no extra_test.rego beside it") {
		t.Errorf("runmedic test without extra_test.rego = exit %d, want 1 naming the missing test file\n%s", code, out)
	}
}

// TestTestChecksAndReports: the checks run for any policy directory, and CI reads the results as
// JSON or JUnit XML.
func TestTestChecksAndReports(t *testing.T) {
	root := newCheckout(t)
	t.Chdir(root)
	typo := "package runmedic.oom\n\nhigh if input.signals.memroy_now > 0.9\n"
	if err := os.WriteFile(filepath.Join("policies", "typo.rego"), []byte(typo), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("policies", "typo_test.rego"), []byte("package runmedic.oom_test\n\ntest_typo := true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const finding = "typo.rego:3: schema: rego_type_error: undefined ref: input.signals.memroy_now"

	code, out, _ := runCLI(t, nil, "test")
	if code != exitError || !strings.Contains(out, "FAIL  "+finding) {
		t.Errorf("runmedic test with a misspelt signal = exit %d, want 1 naming %q\n%s", code, finding, out)
	}

	code, out, errOut := runCLI(t, nil, "test", "-o", "json")
	var res struct {
		Policies string `json:"policies"`
		Checks   []struct {
			Check, File string
			Line        int
		} `json:"checks"`
		Rego struct {
			Tests []json.RawMessage `json:"tests"`
		} `json:"rego"`
		ScenarioResults []struct{ Name, Outcome string } `json:"scenario_results"`
		Passed          bool                             `json:"passed"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("runmedic test -o json is not JSON: %v\n%s", err, out)
	}
	if code != exitError || res.Passed || len(res.Checks) != 1 || res.Checks[0].Check != "schema" || res.Checks[0].Line != 3 ||
		len(res.Rego.Tests) == 0 || len(res.ScenarioResults) != 2 || res.ScenarioResults[0].Outcome != "pass" {
		t.Errorf("runmedic test -o json = exit %d, %+v; want exit 1, one schema finding at line 3, the Rego tests and 2 passing scenarios", code, res)
	}
	if !strings.Contains(errOut, "Policies:  ./policies") {
		t.Errorf("runmedic test -o json stderr lacks the policy set:\n%s", errOut)
	}

	code, out, _ = runCLI(t, nil, "test", "-o", "junit")
	var suites struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); err != nil {
		t.Fatalf("runmedic test -o junit is not XML: %v\n%s", err, out)
	}
	got := map[string][2]int{}
	for _, s := range suites.Suites {
		got[s.Name] = [2]int{s.Tests, s.Failures}
	}
	if code != exitError || got["runmedic.checks"] != [2]int{1, 1} || got["runmedic.scenarios"] != [2]int{2, 0} || got["runmedic.rego"][0] < 30 {
		t.Errorf("runmedic test -o junit = exit %d, suites (tests, failures) %v; want checks 1/1, scenarios 2/0, every Rego test", code, got)
	}
}
