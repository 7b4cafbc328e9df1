package policy_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/policies"
)

// minCoverage is the share of oom.rego the Rego tests must evaluate.
const minCoverage = 90.0

func TestBundledRegoTestsPassWithCoverage(t *testing.T) {
	rep, err := policy.Test(context.Background(), policies.FS, defaultConfig(t), nil)
	if err != nil {
		t.Fatalf("Test(bundled) = %v", err)
	}
	for _, r := range rep.Tests {
		if r.Outcome != policy.Pass {
			t.Errorf("%s (%s:%d) %s: %s", r.Name, r.File, r.Line, r.Outcome, r.Message)
		}
	}
	if n := rep.Count(policy.Pass); n < 20 || !rep.Passed() {
		t.Errorf("Test(bundled) passed %d of %d tests, want all and at least 20", n, len(rep.Tests))
	}
	oom, ok := rep.Coverage["oom.rego"]
	if !ok {
		t.Fatalf("Test(bundled).Coverage = %v, want oom.rego", rep.Coverage)
	}
	t.Logf("oom.rego coverage %.1f%% (%d lines covered, %d not: %v); total %.1f%%",
		oom.Percent, oom.CoveredLines, oom.NotCoveredLines, oom.NotCovered, rep.Percent)
	if oom.Percent < minCoverage {
		t.Errorf("oom.rego coverage = %.1f%%, want >= %.0f%%; not covered: %v", oom.Percent, minCoverage, oom.NotCovered)
	}
	for _, r := range rep.Tests {
		if r.File != "oom_test.rego" || r.Line == 0 || r.Package != "runmedic.oom_test" {
			t.Errorf("test %s at %s:%d in %q, want a line of oom_test.rego in runmedic.oom_test", r.Name, r.File, r.Line, r.Package)
			break
		}
	}
}

func TestTestReportsFailuresAndFilters(t *testing.T) {
	fsys := fstest.MapFS{
		"p.rego": {Data: []byte("package p\n\nlimit := data.runmedic.config.defaults.max_actions_per_day\n\nc := 1 if input.x\n\nc := 2 if input.x\n")},
		"p_test.rego": {Data: []byte(`package p_test

import data.p

test_limit_from_config if p.limit == 3

test_wrong if p.limit == 4

test_error if p.c == 1 with input.x as true

todo_test_later if false
`)},
	}
	rep, err := policy.Test(context.Background(), fsys, defaultConfig(t), nil)
	if err != nil {
		t.Fatalf("Test() = %v", err)
	}
	got := map[string]policy.Outcome{}
	for _, r := range rep.Tests {
		got[r.Name] = r.Outcome
	}
	want := map[string]policy.Outcome{
		"test_limit_from_config": policy.Pass, "test_wrong": policy.Fail,
		"test_error": policy.Error, "todo_test_later": policy.Skip,
	}
	for name, o := range want {
		if got[name] != o {
			t.Errorf("Test() %s = %q, want %q (all: %v)", name, got[name], o, got)
		}
	}
	if rep.Passed() {
		t.Error("Test().Passed() = true with a failing test")
	}
	for _, r := range rep.Tests {
		if want := "p_test.rego:7: p.limit == 4\ngot 3, want 4"; r.Name == "test_wrong" && (r.Line != 7 || r.Message != want) {
			t.Errorf("test_wrong at line %d, message %q; want line 7, %q", r.Line, r.Message, want)
		}
	}

	rep, err = policy.Test(context.Background(), fsys, defaultConfig(t), regexp.MustCompile("limit"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tests) != 1 || rep.Tests[0].Name != "test_limit_from_config" || !rep.Passed() {
		t.Errorf("Test(run=limit) = %+v, want only test_limit_from_config, passing", rep.Tests)
	}
	if _, ok := rep.Coverage["p_test.rego"]; ok {
		t.Errorf("Test().Coverage has p_test.rego; want policy files only")
	}
}

func TestTestRejectsBrokenPolicies(t *testing.T) {
	fsys := fstest.MapFS{"p_test.rego": {Data: []byte("package p_test\n\ntest_x if y\n")}}
	_, err := policy.Test(context.Background(), fsys, defaultConfig(t), nil)
	if err == nil || !strings.Contains(err.Error(), "p_test.rego:3:") {
		t.Errorf("Test() = %v, want a positioned compile error", err)
	}
}
