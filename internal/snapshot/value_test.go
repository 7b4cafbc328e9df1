package snapshot

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValuesReadTheSameAfterJSON: a change built in memory and the same change read back from
// JSON (the ledger, a plan file) give the same typed values.
func TestValuesReadTheSameAfterJSON(t *testing.T) {
	split := []TrafficTarget{{Type: TrafficRevision, Revision: "api-00041-xyz", Percent: 100}}
	built := []Change{
		{Path: PathMemory, Before: "2Gi", After: "4Gi"},
		{Path: PathCPU, Before: "1", After: "2"},
		{Path: PathMaxConcurrency, Before: 80, After: 29},
		{Path: PathTraffic, Before: []TrafficTarget{{Type: TrafficLatest, Percent: 100}}, After: split},
	}
	raw, err := json.Marshal(built)
	if err != nil {
		t.Fatal(err)
	}
	var read []Change
	if err := json.Unmarshal(raw, &read); err != nil {
		t.Fatal(err)
	}
	for i, c := range built {
		r := read[i]
		switch c.Path {
		case PathTraffic:
			want, err := TrafficValue(c.After)
			if err != nil {
				t.Fatalf("TrafficValue(%v): %v", c.After, err)
			}
			got, err := TrafficValue(r.After)
			if err != nil {
				t.Fatalf("TrafficValue(%v) after JSON: %v", r.After, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("traffic after JSON (-want +got):\n%s", diff)
			}
		case PathMaxConcurrency:
			want, _ := IntValue(c.After)
			if got, err := IntValue(r.After); err != nil || got != want {
				t.Errorf("IntValue(%v) after JSON = %d, %v; want %d", r.After, got, err, want)
			}
		default:
			want, _ := TextValue(c.After)
			if got, ok := TextValue(r.After); !ok || got != want {
				t.Errorf("TextValue(%v) after JSON = %q, %v; want %q", r.After, got, ok, want)
			}
		}
	}
}

func TestValueErrors(t *testing.T) {
	if _, err := TrafficValue("4Gi"); err == nil {
		t.Errorf(`TrafficValue("4Gi") = nil error, want one`)
	}
	if _, err := IntValue(2.5); err == nil {
		t.Errorf("IntValue(2.5) = nil error, want one")
	}
	if _, ok := TextValue([]TrafficTarget{}); ok {
		t.Errorf("TextValue(split) ok, want not")
	}
	if ts, err := TrafficValue(nil); err != nil || ts != nil {
		t.Errorf("TrafficValue(nil) = %v, %v; want no split", ts, err)
	}
}
