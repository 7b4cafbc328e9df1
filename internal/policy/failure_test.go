package policy_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/runmedic/runmedic/internal/policy"
)

// A failed comparison names the test's file:line, the expression, and what it got and wanted.
func TestTestExplainsFailures(t *testing.T) {
	fsys := fstest.MapFS{
		"p.rego": {Data: []byte("package p\n\ndecision := {\"action\": \"none\"} if input.closed\n\nn := 3\n")},
		"p_test.rego": {Data: []byte(`package p_test

import data.p

test_closed_none if p.decision.action == "none" with input.closed as true

test_wrong_action if {
	d := p.decision with input.closed as true
	d.action == "restart"
}

test_constant_first if 4 == p.n

test_not_comparison if {
	p.n > 5
}
`)},
	}
	rep, err := policy.Test(context.Background(), fsys, defaultConfig(t), nil)
	if err != nil {
		t.Fatalf("Test() = %v", err)
	}
	want := map[string][]string{
		"test_wrong_action":   {`p_test.rego:9: d.action == "restart"`, `got "none", want "restart"`},
		"test_constant_first": {`p_test.rego:12: 4 == p.n`, "got 3, want 4"},
		"test_not_comparison": {"p_test.rego:15: p.n > 5"},
	}
	for _, r := range rep.Tests {
		w, ok := want[r.Name]
		if !ok {
			if r.Outcome != policy.Pass {
				t.Errorf("%s = %s (%s), want pass", r.Name, r.Outcome, r.Message)
			}
			continue
		}
		if r.Outcome != policy.Fail {
			t.Errorf("%s = %s, want fail", r.Name, r.Outcome)
		}
		for _, s := range w {
			if !strings.Contains(r.Message, s) {
				t.Errorf("%s message = %q, want it to contain %q", r.Name, r.Message, s)
			}
		}
	}
}
