package replay

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func TestWriteRowsGolden(t *testing.T) {
	rows := decideAll(t, bundledRunner(t), Options{})
	for _, f := range []Format{Text, JSON, CSV, Markdown} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteRows(&b, rows, f); err != nil {
				t.Fatal(err)
			}
			golden(t, "rows."+string(f)+".golden", b.Bytes())
		})
	}
}

func TestDecideExplain(t *testing.T) {
	sc, err := scenario.Load(scenariosDir + "/regression-rollback")
	if err != nil {
		t.Fatal(err)
	}
	rows := Decide(context.Background(), bundledRunner(t), []scenario.Scenario{sc}, Options{Explain: true})
	r := rows[0]
	if r.Signals == nil || r.Signals.ServingRevision == "" {
		t.Fatalf("Explain row has signals %+v, want the serving revision", r.Signals)
	}
	found := false
	for _, s := range r.Steps {
		found = found || (s.Rule == "regression" && s.Value == "true")
	}
	if !found {
		t.Errorf("Explain steps %v, want regression = true among them", r.Steps)
	}
	var b bytes.Buffer
	if err := WriteRows(&b, rows, Text); err != nil {
		t.Fatal(err)
	}
	golden(t, "explain.text.golden", b.Bytes())
}

// An invalid decision names the rule that produced it, file and line.
func TestDecideLocatesInvalidDecision(t *testing.T) {
	fsys := editedPolicies(t, `"action": "rollback",`, `"action": "reboot",`)
	sc, err := scenario.Load(scenariosDir + "/regression-rollback")
	if err != nil {
		t.Fatal(err)
	}
	r := Decide(context.Background(), runnerOver(t, fsys), []scenario.Scenario{sc}, Options{})[0]
	for _, want := range []string{`unknown action "reboot"`, "rule decision at oom.rego:"} {
		if !strings.Contains(r.Error, want) {
			t.Errorf("Decide error = %q, want it to contain %q", r.Error, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name    string
		changes []snapshot.Change
		want    string
	}{
		{"none", nil, ""},
		{"memory", []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}, "template.memory 2Gi -> 4Gi"},
		{"memory and cpu", []snapshot.Change{
			{Path: snapshot.PathMemory, Before: snapshot.TextValue("4Gi"), After: snapshot.TextValue("8Gi")},
			{Path: snapshot.PathCPU, Before: snapshot.TextValue("1"), After: snapshot.TextValue("2")},
		}, "template.memory 4Gi -> 8Gi, template.cpu 1 -> 2"},
		{"concurrency", []snapshot.Change{{Path: snapshot.PathMaxConcurrency, Before: snapshot.IntValue(80), After: snapshot.IntValue(29)}}, "template.max_concurrency 80 -> 29"},
		{"restart", []snapshot.Change{{Path: snapshot.PathRestart, Before: snapshot.TextValue(""), After: snapshot.TextValue("0.abc")}}, "template.restart (new revision)"},
		{"rollback", []snapshot.Change{{Path: snapshot.PathTraffic,
			Before: snapshot.TrafficValue([]snapshot.TrafficTarget{{Type: "LATEST", Percent: 100}}),
			After:  snapshot.TrafficValue([]snapshot.TrafficTarget{{Type: "REVISION", Revision: "api-00042-abc", Percent: 100}}),
		}}, "traffic -> api-00042-abc 100%"},
		{"traffic split two ways", []snapshot.Change{{Path: snapshot.PathTraffic,
			After: snapshot.TrafficValue([]snapshot.TrafficTarget{{Type: "REVISION", Revision: "a", Percent: 90}, {Type: "LATEST", Percent: 10}}),
		}}, "traffic -> a 90% + latest 10%"},
		{"image", []snapshot.Change{{Path: snapshot.PathImage, Before: snapshot.TextValue("r/p/api@sha256:1"), After: snapshot.TextValue("r/p/api@sha256:2")}}, "template.image api@sha256:1 -> api@sha256:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.changes); got != tt.want {
				t.Errorf("Summarize(%v) = %q, want %q", tt.changes, got, tt.want)
			}
		})
	}
}

func TestGuardText(t *testing.T) {
	tests := []struct {
		name string
		v    plan.Verdict
		want string
	}{
		{"allowed", plan.Verdict{Allowed: true, Mode: "enforce"}, "allowed"},
		{"shadow", plan.Verdict{Allowed: true, Mode: "shadow"}, "shadow"},
		{"refused", plan.Verdict{Mode: "enforce", Refusals: []plan.Refusal{{Rule: "cooldown"}, {Rule: "budget"}}}, "refused: cooldown, budget"},
		{"shadow and refused", plan.Verdict{Mode: "shadow", Refusals: []plan.Refusal{{Rule: "allowlist"}}}, "refused: allowlist"},
		{"refused without rule", plan.Verdict{Mode: "enforce"}, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GuardText(tt.v); got != tt.want {
				t.Errorf("GuardText(%+v) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"text", "json", "csv", "markdown"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v, want %q", s, f, err, s)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error(`ParseFormat("yaml") = nil error, want one`)
	}
}
