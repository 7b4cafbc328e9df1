package plan_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func TestBuild(t *testing.T) {
	mem := func(b, a string) snapshot.Change {
		return snapshot.Change{Path: snapshot.PathMemory, Before: snapshot.TextValue(b), After: snapshot.TextValue(a)}
	}
	cpu := func(b, a string) snapshot.Change {
		return snapshot.Change{Path: snapshot.PathCPU, Before: snapshot.TextValue(b), After: snapshot.TextValue(a)}
	}
	traffic := func(b, a []snapshot.TrafficTarget) snapshot.Change {
		return snapshot.Change{Path: snapshot.PathTraffic, Before: snapshot.TrafficValue(b), After: snapshot.TrafficValue(a)}
	}
	tagged := func(s *snapshot.Snapshot) {
		s.Service.Traffic = append(s.Service.Traffic, snapshot.TrafficTarget{Type: snapshot.TrafficRevision, Revision: revGood, Tag: "stable"})
	}
	restarted := func(incident string, outcome snapshot.Outcome) func(*snapshot.Snapshot) {
		return func(s *snapshot.Snapshot) {
			s.History = []snapshot.Action{{Incident: incident, Action: "restart", At: capturedAt.Add(-20 * time.Minute), Outcome: outcome,
				Changes: []snapshot.Change{{Path: snapshot.PathRestart, Before: snapshot.TextValue(""), After: snapshot.TextValue(incident)}}}}
		}
	}
	tests := []struct {
		name string
		snap snapshot.Snapshot
		d    decision.Decision
		cfg  func(*config.Defaults)
		want []snapshot.Change
	}{
		{name: "raise 2Gi to 4Gi needs no more cpu", snap: testSnapshot(), d: raise("4Gi", ""),
			want: []snapshot.Change{mem("2Gi", "4Gi")}},
		{name: "raise 4Gi to 8Gi raises cpu to 2", snap: testSnapshot(withTemplate("4Gi", "1")), d: raise("8Gi", ""),
			want: []snapshot.Change{mem("4Gi", "8Gi"), cpu("1", "2")}},
		{name: "raise with params.cpu above the minimum", snap: testSnapshot(withTemplate("4Gi", "1")), d: raise("8Gi", "4"),
			want: []snapshot.Change{mem("4Gi", "8Gi"), cpu("1", "4")}},
		{name: "raise keeps cpu already above the minimum", snap: testSnapshot(withTemplate("4Gi", "4")), d: raise("8Gi", ""),
			want: []snapshot.Change{mem("4Gi", "8Gi")}},
		{name: "raise to 16Gi needs 4 cpu", snap: testSnapshot(withTemplate("8Gi", "2")), d: raise("16Gi", ""),
			cfg:  func(d *config.Defaults) { d.MemoryCeiling = "32Gi" },
			want: []snapshot.Change{mem("8Gi", "16Gi"), cpu("2", "4")}},
		{name: "raise writes memory the way Cloud Run does", snap: testSnapshot(), d: raise("3072Mi", ""),
			want: []snapshot.Change{mem("2Gi", "3Gi")}},
		{name: "raise already applied is empty", snap: testSnapshot(withTemplate("4Gi", "1")), d: raise("4Gi", "")},
		{name: "raise below live memory is empty", snap: testSnapshot(withTemplate("8Gi", "2")), d: raise("4Gi", "")},
		{name: "raise compares quantities not strings", snap: testSnapshot(withTemplate("4096Mi", "1")), d: raise("4Gi", "")},
		{name: "raise on unset memory starts from 512Mi", snap: testSnapshot(withTemplate("", "")), d: raise("1Gi", ""),
			want: []snapshot.Change{mem("", "1Gi")}},
		{name: "pinned raise builds from the serving revision and moves traffic", snap: testSnapshot(pinnedTo(revGood)), d: raise("4Gi", ""),
			want: []snapshot.Change{
				{Path: snapshot.PathImage, Before: snapshot.TextValue(imageNew), After: snapshot.TextValue(imageGood)},
				mem("2Gi", "4Gi"),
				traffic(revision100(revGood), latest100()),
			}},
		{name: "pinned raise with serving revision already raised is empty",
			snap: testSnapshot(pinnedTo(revGood), func(s *snapshot.Snapshot) { s.Revisions[1].Memory = "4Gi" }), d: raise("4Gi", "")},
		{name: "pinned raise keeps the serving revision's spec over the template's",
			snap: testSnapshot(pinnedTo(revGood), withTemplate("4Gi", "2")), d: raise("8Gi", ""),
			want: []snapshot.Change{
				{Path: snapshot.PathImage, Before: snapshot.TextValue(imageNew), After: snapshot.TextValue(imageGood)},
				mem("4Gi", "8Gi"),
				traffic(revision100(revGood), latest100()),
			}},
		{name: "re-notified after the pinned raise landed is empty", snap: testSnapshot(withTemplate("4Gi", "1")), d: raise("4Gi", "")},
		{name: "rollback pins traffic to the target", snap: testSnapshot(), d: rollbackTo(revGood),
			want: []snapshot.Change{traffic(latest100(), revision100(revGood))}},
		{name: "rollback already in place is empty", snap: testSnapshot(pinnedTo(revGood)), d: rollbackTo(revGood)},
		{name: "rollback from a split", d: rollbackTo(revGood),
			snap: testSnapshot(func(s *snapshot.Snapshot) {
				s.Service.Traffic = []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 90}, {Type: snapshot.TrafficRevision, Revision: revGood, Percent: 10}}
			}),
			want: []snapshot.Change{traffic(
				[]snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 90}, {Type: snapshot.TrafficRevision, Revision: revGood, Percent: 10}},
				revision100(revGood))}},
		{name: "rollback keeps tags on the target", snap: testSnapshot(tagged), d: rollbackTo(revGood),
			want: []snapshot.Change{traffic(
				[]snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}, {Type: snapshot.TrafficRevision, Revision: revGood, Tag: "stable"}},
				[]snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: revGood, Percent: 100, Tag: "stable"}})}},
		{name: "rollback keeps other tags at 0 percent", snap: testSnapshot(tagged), d: rollbackTo(revNew),
			want: []snapshot.Change{traffic(
				[]snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}, {Type: snapshot.TrafficRevision, Revision: revGood, Tag: "stable"}},
				[]snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: revNew, Percent: 100}, {Type: snapshot.TrafficRevision, Revision: revGood, Tag: "stable"}})}},
		{name: "lower concurrency", snap: testSnapshot(), d: act(decision.LowerConcurrency, decision.Params{MaxConcurrency: 29}),
			want: []snapshot.Change{{Path: snapshot.PathMaxConcurrency, Before: snapshot.IntValue(80), After: snapshot.IntValue(29)}}},
		{name: "lower concurrency from Cloud Run's default", d: act(decision.LowerConcurrency, decision.Params{MaxConcurrency: 29}),
			snap: testSnapshot(func(s *snapshot.Snapshot) { s.Service.Template.MaxConcurrency = 0 }),
			want: []snapshot.Change{{Path: snapshot.PathMaxConcurrency, Before: snapshot.IntValue(0), After: snapshot.IntValue(29)}}},
		{name: "lower concurrency already low enough is empty", snap: testSnapshot(func(s *snapshot.Snapshot) { s.Service.Template.MaxConcurrency = 20 }),
			d: act(decision.LowerConcurrency, decision.Params{MaxConcurrency: 29})},
		{name: "pinned lower concurrency moves traffic", snap: testSnapshot(pinnedTo(revGood)),
			d: act(decision.LowerConcurrency, decision.Params{MaxConcurrency: 29}),
			want: []snapshot.Change{
				{Path: snapshot.PathImage, Before: snapshot.TextValue(imageNew), After: snapshot.TextValue(imageGood)},
				{Path: snapshot.PathMaxConcurrency, Before: snapshot.IntValue(80), After: snapshot.IntValue(29)},
				traffic(revision100(revGood), latest100()),
			}},
		{name: "restart", snap: testSnapshot(), d: act(decision.Restart, decision.Params{}),
			want: []snapshot.Change{{Path: snapshot.PathRestart, Before: snapshot.TextValue(""), After: snapshot.TextValue("0.nrwotmyokd9n")}}},
		{name: "restart done for this incident is empty", snap: testSnapshot(restarted("0.nrwotmyokd9n", "applied")), d: act(decision.Restart, decision.Params{})},
		{name: "restart that failed for this incident is planned again", snap: testSnapshot(restarted("0.nrwotmyokd9n", "failed")),
			d:    act(decision.Restart, decision.Params{}),
			want: []snapshot.Change{{Path: snapshot.PathRestart, Before: snapshot.TextValue(""), After: snapshot.TextValue("0.nrwotmyokd9n")}}},
		{name: "restart done for another incident is planned", snap: testSnapshot(restarted("0.older", "verified")),
			d:    act(decision.Restart, decision.Params{}),
			want: []snapshot.Change{{Path: snapshot.PathRestart, Before: snapshot.TextValue(""), After: snapshot.TextValue("0.nrwotmyokd9n")}}},
		{name: "escalate changes nothing", snap: testSnapshot(), d: act(decision.Escalate, decision.Params{Notify: []string{"oncall"}})},
		{name: "none changes nothing", snap: testSnapshot(), d: act(decision.None, decision.Params{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testDefaults()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			got, err := plan.Build(tt.snap, testSignals(), tt.d, cfg)
			if err != nil {
				t.Fatalf("Build(%q) error: %v", tt.d.Action, err)
			}
			want := tt.want
			if want == nil {
				want = []snapshot.Change{}
			}
			if diff := cmp.Diff(want, got.Changes); diff != "" {
				t.Errorf("Build(%q) changes (-want +got):\n%s", tt.d.Action, diff)
			}
			checkInvariants(t, tt.snap, tt.d, got)
		})
	}
}

// checkInvariants holds for every plan Build emits.
func checkInvariants(t *testing.T, s snapshot.Snapshot, d decision.Decision, p plan.Plan) {
	t.Helper()
	if p.FormatVersion != plan.FormatVersion || p.Incident != s.Incident.ID || p.Target != s.Target.Name() || p.Etag != s.Service.Etag {
		t.Errorf("Build header = %q %q %q %q, want %q %q %q %q", p.FormatVersion, p.Incident, p.Target, p.Etag,
			plan.FormatVersion, s.Incident.ID, s.Target.Name(), s.Service.Etag)
	}
	if p.Notifications == nil || p.Guard.Refusals == nil {
		t.Errorf("Build left a nil list: notifications %v, refusals %v", p.Notifications, p.Guard.Refusals)
	}
	if p.Applyable || p.Guard.Allowed {
		t.Errorf("Build set the verdict (applyable %v, allowed %v); that is the guard's job", p.Applyable, p.Guard.Allowed)
	}
	if !cmp.Equal(p.Decision, d) {
		t.Errorf("Build decision (-want +got):\n%s", cmp.Diff(d, p.Decision))
	}
	for _, c := range p.Changes {
		if c.Path != snapshot.PathTraffic {
			continue
		}
		sum := 0
		split, err := c.After.Traffic()
		if err != nil {
			t.Fatalf("Build traffic after: %v", err)
		}
		for _, tt := range split {
			sum += tt.Percent
		}
		if sum != 100 {
			t.Errorf("Build traffic after %v sums to %d, want 100", c.After, sum)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name    string
		snap    snapshot.Snapshot
		d       decision.Decision
		cfg     func(*config.Defaults)
		wantErr string
	}{
		{name: "unknown action", snap: testSnapshot(), d: act("scale_out", decision.Params{}), wantErr: `unknown action "scale_out"`},
		{name: "raise without memory", snap: testSnapshot(), d: raise("", ""), wantErr: "params.memory is empty"},
		{name: "raise with bad memory", snap: testSnapshot(), d: raise("lots", ""), wantErr: `memory "lots"`},
		{name: "raise above the ceiling", snap: testSnapshot(), d: raise("16Gi", ""), wantErr: "memory 16Gi is above the memory ceiling 8Gi"},
		{name: "raise above Cloud Run's maximum", snap: testSnapshot(), d: raise("64Gi", ""),
			cfg: func(d *config.Defaults) { d.MemoryCeiling = "" }, wantErr: "memory 64Gi is above Cloud Run's maximum 32Gi"},
		{name: "raise with a ceiling above Cloud Run's maximum", snap: testSnapshot(), d: raise("48Gi", "8"),
			cfg: func(d *config.Defaults) { d.MemoryCeiling, d.CPUCeiling = "64Gi", "8" }, wantErr: "above Cloud Run's maximum 32Gi"},
		{name: "raise with too little cpu", snap: testSnapshot(withTemplate("4Gi", "1")), d: raise("8Gi", "1"),
			wantErr: "cpu 1 is below the 2 CPU Cloud Run requires for 8Gi"},
		{name: "raise needing cpu above the ceiling", snap: testSnapshot(withTemplate("8Gi", "2")), d: raise("16Gi", ""),
			cfg: func(d *config.Defaults) { d.MemoryCeiling, d.CPUCeiling = "32Gi", "2" }, wantErr: "memory 16Gi needs cpu 4, above the cpu ceiling 2"},
		{name: "raise with params.cpu above the ceiling", snap: testSnapshot(), d: raise("4Gi", "8"), wantErr: "above the cpu ceiling 4"},
		{name: "raise with a bad ceiling", snap: testSnapshot(), d: raise("4Gi", ""),
			cfg: func(d *config.Defaults) { d.MemoryCeiling = "big" }, wantErr: "memory_ceiling"},
		{name: "raise on a bad live template", snap: testSnapshot(withTemplate("two gigs", "1")), d: raise("4Gi", ""), wantErr: `memory "two gigs"`},
		{name: "pinned to a revision the snapshot lacks", d: raise("4Gi", ""),
			snap:    testSnapshot(pinnedTo("aiprod-api-00001-zzz")),
			wantErr: `traffic is pinned to revision "aiprod-api-00001-zzz", which is not in the snapshot`},
		{name: "pinned copy would go above the ceiling", d: act(decision.LowerConcurrency, decision.Params{MaxConcurrency: 10}),
			snap: testSnapshot(pinnedTo(revGood), func(s *snapshot.Snapshot) {
				s.Revisions[1].Memory, s.Revisions[1].CPU = "16Gi", "4"
			}),
			wantErr: "memory 16Gi is above the memory ceiling 8Gi"},
		{name: "rollback without a revision", snap: testSnapshot(), d: rollbackTo(""), wantErr: "params.revision is empty"},
		{name: "rollback to an unknown revision", snap: testSnapshot(), d: rollbackTo("aiprod-api-00001-zzz"),
			wantErr: `rollback target "aiprod-api-00001-zzz" does not exist`},
		{name: "rollback to a revision that is not Ready", snap: testSnapshot(), d: rollbackTo(revBroken),
			wantErr: `rollback target "aiprod-api-00040-bad" is not Ready`},
		{name: "lower concurrency to 0", snap: testSnapshot(), d: act(decision.LowerConcurrency, decision.Params{}),
			wantErr: "params.max_concurrency 0: want 1..1000"},
		{name: "restart without an incident", snap: testSnapshot(func(s *snapshot.Snapshot) { s.Incident.ID = "" }),
			d: act(decision.Restart, decision.Params{}), wantErr: "restart needs an incident id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testDefaults()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			got, err := plan.Build(tt.snap, testSignals(), tt.d, cfg)
			if err == nil {
				t.Fatalf("Build(%q) = %d changes, want error containing %q", tt.d.Action, len(got.Changes), tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Build(%q) error = %q, want it to contain %q", tt.d.Action, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Build(%q) error %q spans lines, want one line", tt.d.Action, err)
			}
		})
	}
}

// TestBuildSharesNothing checks the plan does not alias the snapshot: a plan is a value.
func TestBuildSharesNothing(t *testing.T) {
	s := testSnapshot(pinnedTo(revGood))
	p, err := plan.Build(s, testSignals(), raise("4Gi", ""), testDefaults())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	s.Service.Traffic[0].Percent = 7
	before, err := p.Changes[len(p.Changes)-1].Before.Traffic()
	if err != nil {
		t.Fatalf("plan traffic before: %v", err)
	}
	if before[0].Percent != 100 {
		t.Errorf("plan traffic before changed with the snapshot: %v", before)
	}
}

func TestSummary(t *testing.T) {
	empty := plan.Plan{}
	one := plan.Plan{Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}}
	for _, tt := range []struct {
		p    plan.Plan
		want string
		n    int
	}{
		{empty, "No changes. The service already matches the decision.", 0},
		{one, "Plan: 1 to change.", 1},
	} {
		if got := tt.p.Summary(); got != tt.want {
			t.Errorf("Summary() = %q, want %q", got, tt.want)
		}
		if got := tt.p.ToChange(); got != tt.n {
			t.Errorf("ToChange() = %d, want %d", got, tt.n)
		}
	}
}
