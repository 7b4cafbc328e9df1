package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestValueMatchesJSON holds Input.Value to the JSON encoding policies are written against.
func TestValueMatchesJSON(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name   string
		mutate func(*policy.Input)
	}{
		{"realistic", nil},
		{"no series at all", func(in *policy.Input) { in.Metrics = snapshot.Metrics{} }},
		{"empty, not nil, series", func(in *policy.Input) {
			in.Metrics = snapshot.Metrics{MemoryUtilization: []snapshot.Point{}, ServerErrorCount: []snapshot.Point{}}
		}},
		{"server errors and awkward numbers", func(in *policy.Input) {
			in.Metrics.ServerErrorCount = []snapshot.Point{
				{At: capturedAt.In(paris), Value: 1e-7},
				{At: capturedAt.Add(time.Nanosecond), Value: 1e21},
				{At: capturedAt, Value: -0.5},
				{At: capturedAt, Value: 0},
				{At: capturedAt, Value: 123456789.125},
				{At: capturedAt, Value: 3e-300},
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(tt.mutate)
			raw, err := json.Marshal(in.WithRounded())
			if err != nil {
				t.Fatal(err)
			}
			want, err := ast.ValueFromReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			got, err := in.Value()
			if err != nil {
				t.Fatalf("Value() = %v", err)
			}
			if ast.Compare(want, got) != 0 || want.String() != got.String() {
				t.Errorf("Value() =\n%v\nwant the JSON encoding\n%v", got, want)
			}
		})
	}
}

func TestValueRejectsNaN(t *testing.T) {
	in := input(func(in *policy.Input) { in.Metrics.MemoryUtilization[3].Value = math.NaN() })
	if _, err := in.Value(); err == nil {
		t.Error("Value() with a NaN point = nil error, want one")
	}
}

// TestPoliciesCanReadTheSeries: the series converted on demand are the ones in the snapshot.
func TestPoliciesCanReadTheSeries(t *testing.T) {
	src := `decision := {
	"action": "none", "diagnosis": "unknown",
	"reason": sprintf("%d points, last at %s, max %v", [
		count(input.metrics.memory_utilization),
		input.metrics.memory_utilization[179].at,
		max([p.value | some p in input.metrics.memory_utilization]),
	]),
}`
	e, err := policy.New(context.Background(), policyFS(src), defaultConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Decide(context.Background(), input(nil))
	if err != nil {
		t.Fatalf("Decide() = %v", err)
	}
	if want := "180 points, last at 2026-02-04T10:30:00Z, max 0.93"; got.Reason != want {
		t.Errorf("Decide().Reason = %q, want %q", got.Reason, want)
	}
}
