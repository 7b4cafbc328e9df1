package snapshot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValuesReadTheSameAfterJSON: a change built in memory and the same change read back from
// JSON (the ledger, a plan file) are equal, and encode to the same JSON again.
func TestValuesReadTheSameAfterJSON(t *testing.T) {
	split := []TrafficTarget{{Type: TrafficRevision, Revision: "api-00041-xyz", Percent: 100}}
	built := []Change{
		{Path: PathMemory, Before: TextValue("2Gi"), After: TextValue("4Gi")},
		{Path: PathCPU, Before: TextValue("1"), After: TextValue("2")},
		{Path: PathMaxConcurrency, Before: IntValue(80), After: IntValue(29)},
		{Path: PathTraffic, Before: TrafficValue([]TrafficTarget{{Type: TrafficLatest, Percent: 100}}), After: TrafficValue(split)},
		{Path: PathTraffic, Before: TrafficValue(nil), After: TrafficValue([]TrafficTarget{})},
		{Path: PathRestart, Before: TextValue(""), After: TextValue("0.a<b>&c")},
		{Path: "template.flag", Before: BoolValue(false), After: BoolValue(true)},
	}
	raw, err := json.Marshal(built)
	if err != nil {
		t.Fatal(err)
	}
	var read []Change
	if err := json.Unmarshal(raw, &read); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(built, read); diff != "" {
		t.Errorf("changes after JSON (-want +got):\n%s", diff)
	}
	again, err := json.Marshal(read)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(raw) {
		t.Errorf("JSON after a round trip:\n%s\nwant\n%s", again, raw)
	}
}

// TestValueJSONAsWrittenBefore pins the JSON a change encodes to: the form plan files, ledger
// entries and audit events have always had, when Before and After held plain Go values.
func TestValueJSONAsWrittenBefore(t *testing.T) {
	split := []TrafficTarget{{Type: TrafficRevision, Revision: "api-00041-xyz", Percent: 100}}
	tests := []struct {
		name string
		old  any // what Before held before values were typed
		v    Value
	}{
		{"text", "4Gi", TextValue("4Gi")},
		{"empty text", "", TextValue("")},
		{"html in text", "a<b>&c", TextValue("a<b>&c")},
		{"escaped text", "tab\there \"q\" é \u2028", TextValue("tab\there \"q\" é \u2028")},
		{"int", 80, IntValue(80)},
		{"bool", true, BoolValue(true)},
		{"split", split, TrafficValue(split)},
		{"empty split", []TrafficTarget{}, TrafficValue([]TrafficTarget{})},
		{"nil split", []TrafficTarget(nil), TrafficValue(nil)},
		{"absent", nil, Value{}},
	}
	// Plan files are written without HTML escaping, audit events with it: both as before.
	encode := func(x any, escapeHTML bool) string {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escapeHTML)
		if err := enc.Encode(map[string]any{"path": "p", "before": x}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, escape := range []bool{true, false} {
				if got, want := encode(tt.v, escape), encode(tt.old, escape); got != want {
					t.Errorf("encode(%v, escapeHTML %v) = %s, want %s", tt.v, escape, got, want)
				}
			}
		})
	}
}

// TestOldChangesDecode reads changes as older plan files and ledger entries wrote them.
func TestOldChangesDecode(t *testing.T) {
	raw := `[{"path":"template.memory","before":"2Gi","after":"4Gi"},
		{"path":"template.cpu","before":1,"after":"2"},
		{"path":"template.max_concurrency","before":80,"after":29.0},
		{"path":"traffic","before":null,"after":[{"type":"REVISION","revision":"r1","percent":100}]},
		{"path":"template.restart","after":"0.abc"}]`
	var cs []Change
	if err := json.Unmarshal([]byte(raw), &cs); err != nil {
		t.Fatal(err)
	}
	if s, ok := cs[0].After.Text(); !ok || s != "4Gi" {
		t.Errorf("memory after Text() = %q, %v; want 4Gi", s, ok)
	}
	if s, ok := cs[1].Before.Text(); !ok || s != "1" {
		t.Errorf("cpu before Text() = %q, %v; want 1", s, ok)
	}
	if n, err := cs[2].After.Int(); err != nil || n != 29 {
		t.Errorf("concurrency after Int() = %d, %v; want 29", n, err)
	}
	if ts, err := cs[3].After.Traffic(); err != nil || len(ts) != 1 || ts[0].Revision != "r1" {
		t.Errorf("traffic after Traffic() = %v, %v; want r1 100%%", ts, err)
	}
	if !cs[3].Before.IsNull() || !cs[4].Before.IsNull() {
		t.Errorf("null and missing before = %v, %v; want absent", cs[3].Before, cs[4].Before)
	}
}

func TestValueErrors(t *testing.T) {
	if _, err := TextValue("4Gi").Traffic(); err == nil {
		t.Errorf(`TextValue("4Gi").Traffic() = nil error, want one`)
	}
	var half Value
	if err := json.Unmarshal([]byte("2.5"), &half); err != nil {
		t.Fatal(err)
	}
	if _, err := half.Int(); err == nil {
		t.Errorf("Int() of 2.5 = nil error, want one")
	}
	if _, ok := TrafficValue([]TrafficTarget{}).Text(); ok {
		t.Errorf("Text() of a split ok, want not")
	}
	if ts, err := (Value{}).Traffic(); err != nil || ts != nil {
		t.Errorf("Traffic() of absent = %v, %v; want no split", ts, err)
	}
}

// TestBadChangeJSON: a value that is none of the kinds is an error on one line naming the path.
func TestBadChangeJSON(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"object", `{"path":"template.memory","before":"2Gi","after":{"gi":4}}`, `change template.memory: after: {"gi":4} is not a string, number, bool or traffic split`},
		{"array of numbers", `{"path":"traffic","before":[1,2],"after":null}`, `change traffic: before: [1,2] is not a traffic split`},
		{"long object", `{"path":"template.cpu","after":{"a":"` + strings.Repeat("x", 200) + "\",\n\"b\":1}}", `change template.cpu: after: "{\"a\":\"xxxxx`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Change
			err := json.Unmarshal([]byte(tt.raw), &c)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("json.Unmarshal(%s) = %v, want one line starting %s", tt.raw, err, tt.want)
			}
		})
	}
}
