package guard_test

import (
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func TestFreeze(t *testing.T) {
	today := now.Format("2006-01-02")
	for _, tc := range []struct {
		name     string
		windows  []config.FreezeWindow
		labels   map[string]string
		empty    bool
		wantRule bool
		wantMsg  string
	}{
		{"no freeze", nil, nil, false, false, ""},
		{"date range", []config.FreezeWindow{{Name: "launch", Start: today, End: today}}, nil, false, true, "freeze window launch"},
		{"weekly, not now", []config.FreezeWindow{{Weekdays: []string{"sun"}, From: "00:00", To: "24:00"}}, nil, false, false, ""}, // now is a Wednesday
		{"label", nil, map[string]string{"runmedic_io_freeze": "true"}, false, true, "marked frozen"},
		{"nothing to hold", []config.FreezeWindow{{Start: today, End: today}}, nil, true, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Freeze = tc.windows
			s := snapshot.Snapshot{Target: target, Service: snapshot.Service{Labels: tc.labels}}
			p := raisePlan("4Gi", "")
			if tc.empty {
				p = emptyPlan()
			}
			got := guard.Check(p, s, cfg, now)
			var msgs []string
			for _, r := range got.Guard.Refusals {
				if r.Rule == guard.RuleFreeze {
					msgs = append(msgs, r.Message)
				}
			}
			if (len(msgs) > 0) != tc.wantRule || tc.wantRule && (!strings.Contains(msgs[0], tc.wantMsg) || got.Applyable) {
				t.Errorf("Check() freeze refusals %q, applyable %v; want freeze %v %q", msgs, got.Applyable, tc.wantRule, tc.wantMsg)
			}
		})
	}
	p := guard.Refuse(raisePlan("4Gi", ""), guard.RuleSnooze, "snoozed")
	if p.Guard.Allowed || p.Applyable || len(p.Guard.Refusals) != 1 {
		t.Errorf("Refuse() = %+v, want one refusal and nothing applyable", p.Guard)
	}
	if q := guard.Refuse(emptyPlan(), guard.RuleSnooze, "snoozed"); len(q.Guard.Refusals) != 0 {
		t.Errorf("Refuse(plan without changes) added %v", q.Guard.Refusals)
	}
}
