// Package tests holds runmedic's end-to-end and scenario tests.
package tests

import (
	"context"
	"encoding/json"
	"flag"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/policies"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestScenarios decides every folder under scenarios/ with the bundled policies and compares
// the text and JSON plans with the goldens. `go test ./tests -update` rewrites them.
func TestScenarios(t *testing.T) {
	scs, err := scenario.LoadAll("scenarios")
	if err != nil {
		t.Fatal(err)
	}
	base, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	r := scenario.NewRunner(policies.FS, base)
	for _, sc := range scs {
		t.Run(sc.Name, func(t *testing.T) {
			res := r.Run(context.Background(), sc)
			got, err := scenario.Render(res)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				written, err := scenario.WriteGoldens(sc, got)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range written {
					t.Logf("rewrote %s", f)
				}
				return
			}
			mm, err := scenario.Compare(sc, got)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mm {
				if m.Missing {
					t.Errorf("%s is missing: run go test ./tests -update to write it", m.File)
					continue
				}
				t.Errorf("%s differs (-want +got):\n%s", m.File, cmp.Diff(string(m.Want), string(m.Got)))
			}
			if res.Err == nil {
				checkInvariants(t, res)
			}
		})
	}
}

// checkInvariants asserts what must hold for every plan, whatever the policy decided.
func checkInvariants(t *testing.T, res scenario.Result) {
	t.Helper()
	p := res.Outcome.Plan
	if p.Applyable && (!p.Guard.Allowed || len(p.Changes) == 0 || p.Guard.Mode != config.ModeEnforce) {
		t.Errorf("plan is applyable with guard %+v and %d changes", p.Guard, len(p.Changes))
	}
	for _, c := range p.Changes {
		if c.Path != "traffic" {
			continue
		}
		b, _ := json.Marshal(c.After)
		var after []struct{ Percent int }
		if err := json.Unmarshal(b, &after); err != nil {
			t.Fatalf("traffic after %s: %v", b, err)
		}
		sum := 0
		for _, a := range after {
			sum += a.Percent
		}
		if sum != 100 {
			t.Errorf("traffic after sums to %d, want 100: %s", sum, b)
		}
	}
}
