package replay

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A policy that escalates instead of raising memory at 4Gi and above changes exactly the
// scenario that raises from 4Gi.
const raiseRule = "} else := raise_memory_decision if {\n\tneeds_memory\n}"

const raiseRuleEdited = "} else := unknown_decision if {\n\tneeds_memory\n\tinput.signals.memory_limit_mib >= 4096\n" + raiseRule

func TestCompare(t *testing.T) {
	before := decideAll(t, bundledRunner(t), Options{})
	after := decideAll(t, runnerOver(t, editedPolicies(t, raiseRule, raiseRuleEdited)), Options{})
	c := Compare(before, after)
	var got []string
	for _, d := range c.Diffs {
		got = append(got, d.Scenario)
	}
	if diff := cmp.Diff([]string{"raise-needs-cpu"}, got); diff != "" {
		t.Errorf("Compare differing scenarios (-want +got):\n%s", diff)
	}
	if c.Total != len(before) {
		t.Errorf("Compare total = %d, want %d", c.Total, len(before))
	}
	for _, f := range []Format{Text, JSON, CSV, Markdown} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteComparison(&b, c, f); err != nil {
				t.Fatal(err)
			}
			golden(t, "compare."+string(f)+".golden", b.Bytes())
		})
	}
}

func TestCompareSame(t *testing.T) {
	rows := decideAll(t, bundledRunner(t), Options{})
	again := decideAll(t, bundledRunner(t), Options{})
	if c := Compare(rows, again); len(c.Diffs) != 0 || c.Summary() != fmt.Sprintf("0 of %d scenarios differ", len(rows)) {
		t.Errorf("Compare(same, same) = %d diffs, %q; want none", len(c.Diffs), c.Summary())
	}
}

func TestDifferences(t *testing.T) {
	tests := []struct {
		name string
		b, a Row
		want []string
	}{
		{"both errors, same", Row{Error: "x"}, Row{Error: "x"}, nil},
		{"error changed", Row{Error: "x"}, Row{Error: "y"}, []string{"error"}},
		{"error fixed", Row{Error: "x"}, Row{}, []string{"error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, differences(tt.b, tt.a)); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
		})
	}
}
