package plan_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func TestNotifications(t *testing.T) {
	const facts = "insufficient_memory, memory at 93% of 2Gi"
	closed := func(s *snapshot.Snapshot) { s.Incident.State = snapshot.StateClosed }
	escalate := decision.Decision{Action: decision.Escalate, Diagnosis: decision.InsufficientMemory, Policy: "runmedic.oom",
		Params: decision.Params{Notify: []string{"devops-lead@aiprod.ai"}}}
	tests := []struct {
		name string
		snap snapshot.Snapshot
		sig  signals.Signals
		d    decision.Decision
		cfg  func(*config.Defaults)
		want []plan.Notification
	}{
		{name: "an action carries the conditional ladder", snap: testSnapshot(), sig: testSignals(), d: raise("4Gi", ""),
			want: []plan.Notification{
				{To: "backend-lead@aiprod.ai", After: "5m", Reason: "page if not recovering after raise_memory: " + facts},
				{To: "service-lead", After: "15m", Reason: "notify if the issue persists after raise_memory: " + facts},
				{To: "engineering-manager", After: "30m", Reason: "notify if not resolved after raise_memory: " + facts},
			}},
		{name: "escalate notifies at once, then the whole ladder", snap: testSnapshot(), sig: testSignals(), d: escalate,
			want: []plan.Notification{
				{To: "devops-lead@aiprod.ai", After: "0m", Reason: "runmedic.oom decided escalate: " + facts},
				{To: "backend-lead@aiprod.ai", After: "5m", Reason: "escalated: " + facts},
				{To: "service-lead", After: "15m", Reason: "escalated: " + facts},
				{To: "engineering-manager", After: "30m", Reason: "escalated: " + facts},
			}},
		{name: "none on an open incident still pages if not recovering", snap: testSnapshot(), sig: signals.Signals{},
			d:   decision.Decision{Action: decision.None, Diagnosis: decision.Unknown},
			cfg: func(d *config.Defaults) { d.Escalation = d.Escalation[:1] },
			want: []plan.Notification{
				{To: "backend-lead@aiprod.ai", After: "5m", Reason: "page if not recovering: unknown"},
			}},
		{name: "steps are ordered by time, long ladders reuse the last wording", snap: testSnapshot(), sig: signals.Signals{},
			d: decision.Decision{Action: decision.Rollback, Diagnosis: decision.Regression, Params: decision.Params{Revision: revGood}},
			cfg: func(d *config.Defaults) {
				d.Escalation = []config.EscalationStep{
					{After: config.Duration{Duration: 90 * time.Minute}, Notify: "cto"},
					{After: config.Duration{Duration: 5 * time.Minute}, Notify: "a"},
					{After: config.Duration{Duration: time.Hour}, Notify: "b"},
					{After: config.Duration{Duration: 2 * time.Hour}, Notify: ""},
				}
			},
			want: []plan.Notification{
				{To: "a", After: "5m", Reason: "notify if the issue persists after rollback: regression"},
				{To: "b", After: "1h", Reason: "notify if not resolved after rollback: regression"},
				{To: "cto", After: "1h30m", Reason: "page if not recovering after rollback: regression"},
			}},
		{name: "a closed incident pages nobody", snap: testSnapshot(closed), sig: testSignals(), d: escalate, want: []plan.Notification{}},
		{name: "a recovery before the alert pages nobody", snap: testSnapshot(), sig: testSignals(),
			d: decision.Decision{Action: decision.None, Diagnosis: decision.Recovered}, want: []plan.Notification{}},
		{name: "a leak's stopgap raise runs the whole ladder for the code fix", snap: testSnapshot(), sig: signals.Signals{},
			d: decision.Decision{Action: decision.RaiseMemory, Diagnosis: decision.GradualGrowth, Policy: "runmedic.oom",
				Params: decision.Params{Memory: "4Gi", Notify: []string{"backend-lead@aiprod.ai"}}},
			want: []plan.Notification{
				{To: "backend-lead@aiprod.ai", After: "0m", Reason: "runmedic.oom decided raise_memory: gradual_growth"},
				{To: "service-lead", After: "15m", Reason: "escalated for the code fix after raise_memory: gradual_growth"},
				{To: "engineering-manager", After: "30m", Reason: "escalated for the code fix after raise_memory: gradual_growth"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testDefaults()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p, err := plan.Build(tt.snap, tt.sig, tt.d, cfg)
			if err != nil {
				t.Fatalf("Build(%q): %v", tt.d.Action, err)
			}
			if diff := cmp.Diff(tt.want, p.Notifications); diff != "" {
				t.Errorf("Build(%q) notifications (-want +got):\n%s", tt.d.Action, diff)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0m"}, {5 * time.Minute, "5m"}, {time.Hour, "1h"}, {90 * time.Minute, "1h30m"},
		{30 * time.Second, "30s"}, {4*time.Minute + 7*time.Second, "4m7s"}, {24 * time.Hour, "24h"},
	} {
		got := plan.FormatDuration(tt.d)
		if got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != tt.d {
			t.Errorf("time.ParseDuration(%q) = %v, %v; want %v", got, back, err, tt.d)
		}
	}
}
