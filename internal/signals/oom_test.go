package signals

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestOOMSignals checks kills are counted from readable logs only, and that unknown stays absent
// from the policy input.
func TestOOMSignals(t *testing.T) {
	now := t0.Add(3 * time.Hour)
	kill := func(rev string, n int, used float64, lastAgo time.Duration) snapshot.OOMKill {
		return snapshot.OOMKill{Revision: rev, Count: n, LimitMiB: 2048, MaxUsedMiB: used,
			First: now.Add(-2 * time.Hour), Last: now.Add(-lastAgo)}
	}
	tests := []struct {
		name      string
		logs      *snapshot.Logs
		wantKeys  []string // JSON keys that must be there
		wantNoKey []string // and that must not
		total     int
		byRev     map[string]int
		used      float64
		since     int
		fit       int64
	}{
		{
			name: "not read", logs: nil,
			wantNoKey: []string{"oom_kills", "oom_max_used_mib", "minutes_since_oom_kill", "logs_error"},
		},
		{
			name: "read failed", logs: &snapshot.Logs{Available: false, Error: "permission denied"},
			wantKeys:  []string{"logs_error"},
			wantNoKey: []string{"oom_kills", "oom_max_used_mib", "minutes_since_oom_kill"},
		},
		{
			name: "read, no kill", logs: &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{}},
			wantKeys:  []string{"oom_kills"},
			wantNoKey: []string{"oom_max_used_mib", "minutes_since_oom_kill"},
		},
		{
			name: "kills on two revisions",
			logs: &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{
				kill("api-00002-new", 3, 2300, 4*time.Minute), kill("api-00001-old", 1, 2100, 50*time.Minute),
			}},
			wantKeys: []string{"oom_kills", "oom_kills_by_revision", "oom_max_used_mib", "minutes_since_oom_kill"},
			total:    4, byRev: map[string]int{"api-00002-new": 3, "api-00001-old": 1}, used: 2300, since: 4, fit: 2760,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := oomFacts(tt.logs, now)
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			var keys map[string]any
			if err := json.Unmarshal(b, &keys); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.wantKeys {
				if _, ok := keys[k]; !ok {
					t.Errorf("%s missing from %s", k, b)
				}
			}
			for _, k := range tt.wantNoKey {
				if _, ok := keys[k]; ok {
					t.Errorf("%s present in %s, want it absent", k, b)
				}
			}
			if o.OOMKills != nil && *o.OOMKills != tt.total {
				t.Errorf("oom_kills = %d, want %d", *o.OOMKills, tt.total)
			}
			if tt.byRev != nil {
				if diff := cmp.Diff(tt.byRev, o.OOMKillsByRevision); diff != "" {
					t.Errorf("oom_kills_by_revision (-want +got):\n%s", diff)
				}
				if *o.OOMMaxUsedMiB != tt.used || *o.MinutesSinceOOMKill != tt.since {
					t.Errorf("used %v since %d, want %v and %d", *o.OOMMaxUsedMiB, *o.MinutesSinceOOMKill, tt.used, tt.since)
				}
			}
			if got := o.fitMiB(); got != tt.fit {
				t.Errorf("fitMiB() = %d, want %d", got, tt.fit)
			}
		})
	}
}

// TestRaiseHoldsTheLargestUsed checks the next step holds the largest OOM "used" × 1.2.
func TestRaiseHoldsTheLargestUsed(t *testing.T) {
	tests := []struct {
		name     string
		used     float64
		step     string
		stepCPU  string
		noLogs   bool
		template string
	}{
		{name: "no logs: VPA's bump", noLogs: true, step: "4Gi", template: "2Gi"},
		{name: "used just over the limit: one step", used: 2100, step: "4Gi", template: "2Gi"},
		{name: "used 3600 MiB needs 4320: past 4Gi to 8Gi with 2 CPU", used: 3600, step: "8Gi", stepCPU: "2", template: "2Gi"},
		{name: "beyond the ceiling: none", used: 7800, step: "", template: "2Gi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot(series(t0, repeat(0.95, 60)...))
			s.Service.Template.Memory = tt.template
			if !tt.noLogs {
				s.Logs = &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{{
					Revision: "api-00001-aaa", Count: 2, LimitMiB: 2048, MaxUsedMiB: tt.used, First: t0, Last: t0.Add(50 * time.Minute),
				}}}
			}
			sig, err := Compute(s, testDefaults())
			if err != nil {
				t.Fatal(err)
			}
			if sig.NextMemoryStep != tt.step || sig.NextMemoryStepCPU != tt.stepCPU {
				t.Errorf("next step %q cpu %q, want %q cpu %q", sig.NextMemoryStep, sig.NextMemoryStepCPU, tt.step, tt.stepCPU)
			}
		})
	}
}
