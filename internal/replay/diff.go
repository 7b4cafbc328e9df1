package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Diff is one scenario that two policy sets decide differently.
type Diff struct {
	Scenario string   `json:"scenario"`
	Before   Row      `json:"before"` // the base policy set
	After    Row      `json:"after"`  // the policy set compared against it
	Fields   []string `json:"differs"`
}

// Comparison is every scenario decided by two policy sets, reduced to those that differ.
type Comparison struct {
	Total int    `json:"total"`
	Diffs []Diff `json:"diffs"`
}

// Summary is the last line of a comparison: "2 of 20 scenarios differ".
func (c Comparison) Summary() string {
	return fmt.Sprintf("%d of %s differ", len(c.Diffs), plural(c.Total, "scenario"))
}

// Compare pairs before[i] with after[i] (the same scenarios, decided by two policy sets) and
// keeps the pairs whose decision or plan differ. A row past the end of the shorter list is
// compared with an empty row, so it always differs.
func Compare(before, after []Row) Comparison {
	n := max(len(before), len(after))
	c := Comparison{Total: n, Diffs: []Diff{}}
	for i := range n {
		var b, a Row
		if i < len(before) {
			b = before[i]
		}
		if i < len(after) {
			a = after[i]
		}
		if fields := differences(b, a); len(fields) > 0 {
			name := b.Scenario
			if name == "" {
				name = a.Scenario
			}
			c.Diffs = append(c.Diffs, Diff{Scenario: name, Before: b, After: a, Fields: fields})
		}
	}
	return c
}

// differences names what differs between two decisions of one scenario, in the order a reader
// checks them: the decision, then the plan, then the guard.
func differences(b, a Row) []string {
	var out []string
	if b.Error != a.Error {
		out = append(out, "error")
	}
	bp, ap := b.Plan, a.Plan
	if bp == nil || ap == nil {
		if (bp == nil) != (ap == nil) && b.Error == a.Error {
			out = append(out, "plan")
		}
		return out
	}
	for _, f := range []struct {
		name string
		b, a any
	}{
		{"action", bp.Decision.Action, ap.Decision.Action},
		{"diagnosis", bp.Decision.Diagnosis, ap.Decision.Diagnosis},
		{"params", bp.Decision.Params, ap.Decision.Params},
		{"deny", bp.Decision.Deny, ap.Decision.Deny},
		{"reason", bp.Decision.Reason, ap.Decision.Reason},
		{"evidence", bp.Decision.Evidence, ap.Decision.Evidence},
		{"changes", bp.Changes, ap.Changes},
		{"notifications", bp.Notifications, ap.Notifications},
		{"guard", bp.Guard, ap.Guard},
	} {
		if !sameJSON(f.b, f.a) {
			out = append(out, f.name)
		}
	}
	return out
}

// sameJSON compares two values by their JSON encoding, so a nil list equals an empty one and
// change values compare by what they mean, not by their Go type.
func sameJSON(x, y any) bool {
	bx, errX := json.Marshal(x)
	by, errY := json.Marshal(y)
	if errX != nil || errY != nil {
		return false
	}
	return bytes.Equal(normalJSON(bx), normalJSON(by))
}

func normalJSON(b []byte) []byte {
	switch string(b) {
	case "null", "[]", "{}":
		return nil
	}
	return b
}
