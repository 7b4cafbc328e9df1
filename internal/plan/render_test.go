package plan_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite golden files")

type renderCase struct {
	name    string
	snap    snapshot.Snapshot
	d       decision.Decision
	verdict *plan.Verdict // nil: the guard has not run
	opts    plan.TextOptions
}

func allowed(mode string) *plan.Verdict {
	return &plan.Verdict{Allowed: true, Mode: mode, Refusals: []plan.Refusal{}}
}

func renderCases() []renderCase {
	refusedRaise := raise("4Gi", "")
	refusedRaise.Deny = []string{"service is frozen for the release on 2026-02-05"}
	sig := testSignals()
	return []renderCase{
		{name: "raise-pinned", d: raise("8Gi", ""), verdict: allowed(config.ModeEnforce),
			snap: testSnapshot(pinnedTo(revGood), withTemplate("4Gi", "1"), func(s *snapshot.Snapshot) { s.Revisions[1].Memory = "4Gi" })},
		{name: "rollback-shadow", d: rollbackTo(revGood), verdict: allowed(config.ModeShadow),
			snap: testSnapshot(func(s *snapshot.Snapshot) {
				s.Service.Traffic = append(s.Service.Traffic, snapshot.TrafficTarget{Type: snapshot.TrafficRevision, Revision: revBroken, Tag: "canary"})
			})},
		{name: "refused", d: refusedRaise, snap: testSnapshot(),
			verdict: &plan.Verdict{Mode: config.ModeEnforce, Refusals: []plan.Refusal{
				{Rule: "cooldown", Message: "last change was 4m ago (rollback for incident 0.older); cooldown is 15m, next change allowed at 2026-02-04T10:41:00Z"},
				{Rule: "policy", Message: refusedRaise.Deny[0]},
			}}},
		{name: "no-changes", d: raise("4Gi", ""), verdict: allowed(config.ModeEnforce), snap: testSnapshot(withTemplate("4Gi", "1"))},
		{name: "escalate-explain", snap: testSnapshot(), verdict: allowed(config.ModeEnforce),
			d: decision.Decision{Action: decision.Escalate, Diagnosis: decision.InsufficientMemory, Policy: "runmedic.oom",
				Reason: "memory is at the ceiling 8Gi", Evidence: []string{"memory p99 93% of 8Gi"}},
			opts: plan.TextOptions{Signals: &sig, Explain: []string{
				"rule insufficient_memory: memory_now 0.93 >= 0.85, slope 0.0123/h < 0.05/h",
				"rule at_ceiling: next_memory_step \"\" -> escalate",
			}}},
		{name: "unchecked", d: act(decision.LowerConcurrency, decision.Params{MaxConcurrency: 29}), snap: testSnapshot()},
	}
}

func (c renderCase) plan(t testing.TB) plan.Plan {
	t.Helper()
	p, err := plan.Build(c.snap, testSignals(), c.d, testDefaults())
	if err != nil {
		t.Fatalf("Build(%q): %v", c.d.Action, err)
	}
	if c.verdict != nil {
		p.Guard = *c.verdict
		p.Applyable = c.verdict.Allowed && c.verdict.Mode == config.ModeEnforce && p.HasChanges()
	}
	return p
}

func TestRenderGolden(t *testing.T) {
	for _, c := range renderCases() {
		t.Run(c.name, func(t *testing.T) {
			p := c.plan(t)
			var plain, color, js bytes.Buffer
			if err := plan.RenderText(&plain, p, c.opts); err != nil {
				t.Fatalf("RenderText: %v", err)
			}
			colorOpts := c.opts
			colorOpts.Color = true
			if err := plan.RenderText(&color, p, colorOpts); err != nil {
				t.Fatalf("RenderText(color): %v", err)
			}
			if err := plan.RenderJSON(&js, p); err != nil {
				t.Fatalf("RenderJSON: %v", err)
			}
			golden(t, c.name+".txt", plain.Bytes())
			golden(t, c.name+".color.txt", color.Bytes())
			golden(t, c.name+".json", js.Bytes())
			if strings.Contains(plain.String(), "\x1b[") {
				t.Errorf("RenderText without Color wrote ANSI escapes")
			}
			if !strings.Contains(color.String(), "\x1b[1m") {
				t.Errorf("RenderText with Color wrote no bold heading")
			}
		})
	}
}

// TestRenderJSONRoundTrip reads a JSON plan back, as apply does with a saved plan, and checks it
// renders exactly as the plan it came from.
func TestRenderJSONRoundTrip(t *testing.T) {
	for _, c := range renderCases() {
		t.Run(c.name, func(t *testing.T) {
			p := c.plan(t)
			var js bytes.Buffer
			if err := plan.RenderJSON(&js, p); err != nil {
				t.Fatalf("RenderJSON: %v", err)
			}
			var back plan.Plan
			if err := json.Unmarshal(js.Bytes(), &back); err != nil {
				t.Fatalf("decode RenderJSON output: %v", err)
			}
			var want, got bytes.Buffer
			_ = plan.RenderText(&want, p, c.opts)
			_ = plan.RenderText(&got, back, c.opts)
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("RenderText after a JSON round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRenderJSONNeverNull checks the lists of the contract are [] in an empty plan, never null.
func TestRenderJSONNeverNull(t *testing.T) {
	var b bytes.Buffer
	if err := plan.RenderJSON(&b, plan.Plan{}); err != nil {
		t.Fatalf("RenderJSON: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	guard := m["guard"].(map[string]any)
	dec := m["decision"].(map[string]any)
	for name, v := range map[string]any{"changes": m["changes"], "notifications": m["notifications"],
		"guard.refusals": guard["refusals"], "decision.evidence": dec["evidence"]} {
		if _, ok := v.([]any); !ok {
			t.Errorf("RenderJSON(empty plan) %s = %v, want []", name, v)
		}
	}
	if m["format_version"] != plan.FormatVersion {
		t.Errorf("RenderJSON(empty plan) format_version = %v, want %q", m["format_version"], plan.FormatVersion)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderWriteError(t *testing.T) {
	p := renderCases()[0].plan(t)
	if err := plan.RenderText(failingWriter{}, p, plan.TextOptions{}); err == nil {
		t.Errorf("RenderText to a failing writer = nil, want an error")
	}
	if err := plan.RenderJSON(failingWriter{}, p); err == nil {
		t.Errorf("RenderJSON to a failing writer = nil, want an error")
	}
}

// TestRenderSignalsComplete checks --explain lists every signal, by its JSON name.
func TestRenderSignalsComplete(t *testing.T) {
	sig := signals.Signals{}
	raw, _ := json.Marshal(sig)
	var fields map[string]any
	_ = json.Unmarshal(raw, &fields)
	var b bytes.Buffer
	if err := plan.RenderText(&b, plan.Plan{}, plan.TextOptions{Signals: &sig}); err != nil {
		t.Fatalf("RenderText: %v", err)
	}
	for name := range fields {
		if !strings.Contains(b.String(), "  "+name+" ") {
			t.Errorf("RenderText with Signals does not list %q", name)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
