package guard_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var now = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)

var target = snapshot.Target{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-api"}

func testConfig() config.Config {
	return config.Config{
		Defaults: config.Defaults{
			Mode: config.ModeEnforce, MemoryCeiling: "8Gi", CPUCeiling: "4",
			Cooldown: config.Duration{Duration: 15 * time.Minute}, MaxActionsPerDay: 3,
		},
		Services: []config.ServiceRule{{Project: target.Project, Location: target.Location, Service: target.Service}},
	}
}

func raisePlan(memory, cpu string) plan.Plan {
	p := plan.Plan{
		FormatVersion: plan.FormatVersion, Incident: "0.new", Target: target.Name(),
		Decision: decision.Decision{Action: decision.RaiseMemory, Diagnosis: decision.InsufficientMemory},
		Changes:  []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue(memory)}},
	}
	if cpu != "" {
		p.Changes = append(p.Changes, snapshot.Change{Path: snapshot.PathCPU, Before: snapshot.TextValue("1"), After: snapshot.TextValue(cpu)})
	}
	return p
}

func emptyPlan() plan.Plan {
	return plan.Plan{FormatVersion: plan.FormatVersion, Incident: "0.new", Target: target.Name(),
		Decision: decision.Decision{Action: decision.Escalate}, Changes: []snapshot.Change{}}
}

// changed is a recorded action that changed the service, ago before now.
func changed(ago time.Duration) snapshot.Action {
	return snapshot.Action{Incident: "0.old", Action: "raise_memory", At: now.Add(-ago), Outcome: "verified",
		Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("1Gi"), After: snapshot.TextValue("2Gi")}}}
}

// sameIncident is a recorded action for the plans' incident, with outcome.
func sameIncident(a snapshot.Action, outcome snapshot.Outcome) snapshot.Action {
	a.Incident, a.Outcome = "0.new", outcome
	return a
}

// escalated is a recorded action that changed nothing.
func escalated(ago time.Duration) snapshot.Action {
	return snapshot.Action{Incident: "0.old", Action: "escalate", At: now.Add(-ago), Outcome: "applied"}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		p         plan.Plan
		history   []snapshot.Action
		target    *snapshot.Target
		cfg       func(*config.Config)
		wantRules []string
		wantMode  string
		applyable bool
	}{
		{name: "allowed", p: raisePlan("4Gi", ""), wantMode: "enforce", applyable: true},
		{name: "shadow is allowed but never applyable", p: raisePlan("4Gi", ""), wantMode: "shadow",
			cfg: func(c *config.Config) { c.Defaults.Mode = config.ModeShadow }},
		{name: "per-service shadow overrides enforce", p: raisePlan("4Gi", ""), wantMode: "shadow",
			cfg: func(c *config.Config) { c.Services[0].Mode = config.ModeShadow }},
		{name: "per-service enforce overrides shadow", p: raisePlan("4Gi", ""), wantMode: "enforce", applyable: true,
			cfg: func(c *config.Config) { c.Defaults.Mode, c.Services[0].Mode = config.ModeShadow, config.ModeEnforce }},
		{name: "not on the allowlist", p: raisePlan("4Gi", ""), wantMode: "enforce", wantRules: []string{"allowlist"},
			cfg: func(c *config.Config) { c.Services[0].Service = "other" }},
		{name: "empty allowlist", p: raisePlan("4Gi", ""), wantMode: "enforce", wantRules: []string{"allowlist"},
			cfg: func(c *config.Config) { c.Services = nil }},
		{name: "plan for another service", p: raisePlan("4Gi", ""), wantMode: "enforce", wantRules: []string{"allowlist", "target"},
			target: &snapshot.Target{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-web"}},
		{name: "unknown mode", p: raisePlan("4Gi", ""), wantMode: "yolo", wantRules: []string{"mode"},
			cfg: func(c *config.Config) { c.Defaults.Mode = "yolo" }},
		{name: "memory above the ceiling", p: raisePlan("16Gi", "4"), wantMode: "enforce", wantRules: []string{"ceiling"}},
		{name: "memory and cpu above the ceilings", p: raisePlan("16Gi", "6"), wantMode: "enforce", wantRules: []string{"ceiling", "ceiling"}},
		{name: "memory at the ceiling", p: raisePlan("8Gi", "4"), wantMode: "enforce", applyable: true},
		{name: "unset ceilings are Cloud Run's", p: raisePlan("16Gi", "8"), wantMode: "enforce", applyable: true,
			cfg: func(c *config.Config) { c.Defaults.MemoryCeiling, c.Defaults.CPUCeiling = "", "" }},
		{name: "above Cloud Run's maximum without a ceiling", p: raisePlan("64Gi", "16"), wantMode: "enforce", wantRules: []string{"ceiling", "ceiling"},
			cfg: func(c *config.Config) { c.Defaults.MemoryCeiling, c.Defaults.CPUCeiling = "", "" }},
		{name: "unreadable value", p: raisePlan("lots", ""), wantMode: "enforce", wantRules: []string{"ceiling"}},
		{name: "unreadable ceiling", p: raisePlan("4Gi", ""), wantMode: "enforce", wantRules: []string{"ceiling"},
			cfg: func(c *config.Config) { c.Defaults.MemoryCeiling = "big" }},
		{name: "inside the cooldown", p: raisePlan("4Gi", ""), history: []snapshot.Action{changed(4 * time.Minute)},
			wantMode: "enforce", wantRules: []string{"cooldown"}},
		{name: "cooldown just over", p: raisePlan("4Gi", ""), history: []snapshot.Action{changed(15 * time.Minute)},
			wantMode: "enforce", applyable: true},
		{name: "newest change counts, whatever the order", p: raisePlan("4Gi", ""),
			history:  []snapshot.Action{changed(20 * time.Hour), changed(time.Minute)},
			wantMode: "enforce", wantRules: []string{"cooldown"}},
		{name: "an action that changed nothing starts no cooldown", p: raisePlan("4Gi", ""), history: []snapshot.Action{escalated(time.Minute)},
			wantMode: "enforce", applyable: true},
		{name: "a change recorded in the future is inside the cooldown", p: raisePlan("4Gi", ""), history: []snapshot.Action{changed(-time.Hour)},
			wantMode: "enforce", wantRules: []string{"cooldown"}},
		{name: "no cooldown configured", p: raisePlan("4Gi", ""), history: []snapshot.Action{changed(time.Minute)},
			cfg: func(c *config.Config) { c.Defaults.Cooldown.Duration = 0 }, wantMode: "enforce", applyable: true},
		{name: "budget spent", p: raisePlan("4Gi", ""),
			history:  []snapshot.Action{changed(time.Hour), changed(5 * time.Hour), changed(23 * time.Hour)},
			wantMode: "enforce", wantRules: []string{"budget"}},
		{name: "budget left", p: raisePlan("4Gi", ""),
			history:  []snapshot.Action{changed(time.Hour), changed(5 * time.Hour), changed(25 * time.Hour), escalated(2 * time.Hour)},
			wantMode: "enforce", applyable: true},
		{name: "the same step of the same incident again", p: raisePlan("8Gi", ""),
			history:  []snapshot.Action{sameIncident(changed(20*time.Hour), "applied")},
			wantMode: "enforce", wantRules: []string{"done"}},
		{name: "the same step again after it failed", p: raisePlan("8Gi", ""),
			history:  []snapshot.Action{sameIncident(changed(20*time.Hour), "failed")},
			wantMode: "enforce", applyable: true},
		{name: "a change exactly a day old is outside the budget", p: raisePlan("4Gi", ""),
			history:  []snapshot.Action{changed(time.Hour), changed(5 * time.Hour), changed(24 * time.Hour)},
			wantMode: "enforce", applyable: true},
		{name: "zero budget allows no change", p: raisePlan("4Gi", ""),
			cfg: func(c *config.Config) { c.Defaults.MaxActionsPerDay = 0 }, wantMode: "enforce", wantRules: []string{"budget"}},
		{name: "policy denies", p: withDeny(raisePlan("4Gi", ""), "frozen for the release", "owner asked for manual fixes"),
			wantMode: "enforce", wantRules: []string{"policy", "policy"}},
		{name: "no changes: nothing to cool down or budget", p: emptyPlan(),
			history:  []snapshot.Action{changed(time.Minute), changed(2 * time.Minute), changed(3 * time.Minute)},
			wantMode: "enforce"},
		{name: "no changes still reports the allowlist", p: emptyPlan(), wantMode: "enforce", wantRules: []string{"allowlist"},
			cfg: func(c *config.Config) { c.Services = nil }},
		{name: "no changes still reports policy denies", p: withDeny(emptyPlan(), "frozen"), wantMode: "enforce", wantRules: []string{"policy"}},
		{name: "every rule at once, in order", p: withDeny(raisePlan("16Gi", ""), "frozen"),
			history:  []snapshot.Action{changed(time.Minute), changed(2 * time.Hour), changed(3 * time.Hour)},
			cfg:      func(c *config.Config) { c.Services = nil; c.Defaults.Mode = "auto" },
			wantMode: "auto", wantRules: []string{"allowlist", "mode", "ceiling", "cooldown", "budget", "policy"}},
		{name: "shadow with refusals", p: withDeny(raisePlan("4Gi", ""), "frozen"), history: []snapshot.Action{changed(time.Minute)},
			cfg:      func(c *config.Config) { c.Defaults.Mode = config.ModeShadow },
			wantMode: "shadow", wantRules: []string{"cooldown", "policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := snapshot.Snapshot{Target: target, History: tt.history}
			if tt.target != nil {
				s.Target = *tt.target
			}
			got := guard.Check(tt.p, s, cfg, now)
			rules := []string{}
			for _, r := range got.Guard.Refusals {
				rules = append(rules, r.Rule)
				if r.Message == "" {
					t.Errorf("Check refusal %q has no message", r.Rule)
				}
			}
			want := tt.wantRules
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, rules); diff != "" {
				t.Errorf("Check refusals (-want +got):\n%s", diff)
			}
			if got.Guard.Refusals == nil {
				t.Errorf("Check refusals = nil, want a list")
			}
			if got.Guard.Mode != tt.wantMode {
				t.Errorf("Check mode = %q, want %q", got.Guard.Mode, tt.wantMode)
			}
			if got.Guard.Allowed != (len(want) == 0) {
				t.Errorf("Check allowed = %v with refusals %v", got.Guard.Allowed, want)
			}
			if got.Applyable != tt.applyable {
				t.Errorf("Check applyable = %v, want %v", got.Applyable, tt.applyable)
			}
			if !cmp.Equal(got.Changes, tt.p.Changes) {
				t.Errorf("Check changed the plan's changes (-want +got):\n%s", cmp.Diff(tt.p.Changes, got.Changes))
			}
		})
	}
}

func withDeny(p plan.Plan, deny ...string) plan.Plan {
	p.Decision.Deny = deny
	return p
}

// TestCheckMessages pins the wording people read in the plan.
func TestCheckMessages(t *testing.T) {
	cfg := testConfig()
	cfg.Defaults.MaxActionsPerDay = 2
	s := snapshot.Snapshot{Target: target, History: []snapshot.Action{changed(4 * time.Minute), changed(3 * time.Hour)}}
	got := guard.Check(withDeny(raisePlan("16Gi", "6"), "frozen for the release"), s, cfg, now)
	want := []plan.Refusal{
		{Rule: "ceiling", Message: "template.memory 16Gi is above the ceiling 8Gi"},
		{Rule: "ceiling", Message: "template.cpu 6 is above the ceiling 4"},
		{Rule: "cooldown", Message: "last change was 4m ago (raise_memory for incident 0.old); cooldown is 15m, next change allowed at 2026-02-04T10:41:00Z"},
		{Rule: "budget", Message: "2 changes in the last 24h, the budget is 2 a day; escalate instead"},
		{Rule: "policy", Message: "frozen for the release"},
	}
	if diff := cmp.Diff(want, got.Guard.Refusals); diff != "" {
		t.Errorf("Check refusals (-want +got):\n%s", diff)
	}

	cfg.Services = nil
	got = guard.Check(emptyPlan(), snapshot.Snapshot{Target: target}, cfg, now)
	wantAllow := []plan.Refusal{{Rule: "allowlist",
		Message: "service projects/aiprod-484120/locations/europe-west1/services/aiprod-api is not on the allowlist"}}
	if diff := cmp.Diff(wantAllow, got.Guard.Refusals); diff != "" {
		t.Errorf("Check refusals (-want +got):\n%s", diff)
	}
}

// TestCheckIsIdempotent checks a plan checked twice gets the same verdict, not doubled refusals.
func TestCheckIsIdempotent(t *testing.T) {
	s := snapshot.Snapshot{Target: target, History: []snapshot.Action{changed(time.Minute)}}
	once := guard.Check(withDeny(raisePlan("4Gi", ""), "frozen"), s, testConfig(), now)
	twice := guard.Check(once, s, testConfig(), now)
	if diff := cmp.Diff(once, twice); diff != "" {
		t.Errorf("Check(Check(p)) (-once +twice):\n%s", diff)
	}
}

func BenchmarkCheck(b *testing.B) {
	s := snapshot.Snapshot{Target: target, History: []snapshot.Action{changed(time.Hour), changed(5 * time.Hour), escalated(2 * time.Hour)}}
	p, cfg := raisePlan("8Gi", "2"), testConfig()
	b.ReportAllocs()
	for b.Loop() {
		if got := guard.Check(p, s, cfg, now); !got.Applyable {
			b.Fatalf("Check = %+v, want applyable", got.Guard)
		}
	}
}
