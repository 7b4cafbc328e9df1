package guard_test

import (
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestScope judges the live service's mode label against the allowlist: the label narrows what
// the config allows and never widens it.
func TestScope(t *testing.T) {
	wildcard := func(mode string) func(*config.Config) {
		return func(c *config.Config) {
			c.Services = []config.ServiceRule{{Project: target.Project, Location: target.Location, Service: config.AnyService, Mode: mode}}
		}
	}
	named := func(mode string) func(*config.Config) { return func(c *config.Config) { c.Services[0].Mode = mode } }
	none := func(c *config.Config) { c.Services = nil }
	label := func(v string) map[string]string { return map[string]string{config.ModeLabel: v} }
	for _, tc := range []struct {
		name        string
		cfg         func(*config.Config)
		labels      map[string]string
		annotations map[string]string
		wantMode    string
		applyable   bool
		wantMsg     string // the allowlist refusal, "" for none
	}{
		{"wildcard, label enforce", wildcard(""), label("enforce"), nil, "enforce", true, ""},
		{"wildcard, label shadow", wildcard(""), label("shadow"), nil, "shadow", false, ""},
		{"wildcard, annotation enforce", wildcard(""), nil, map[string]string{config.ModeAnnotation: "enforce"}, "enforce", true, ""},
		{"wildcard, no label: not opted in", wildcard(""), nil, nil, "off", false, "has not opted in"},
		{"wildcard, label off", wildcard(""), label("off"), nil, "off", false, "opted out by runmedic_io_mode=off"},
		{"wildcard, label misspelt", wildcard(""), label("enfroce"), nil, "off", false, `runmedic_io_mode="enfroce"`},
		{"config shadow + label enforce = shadow", wildcard("shadow"), label("enforce"), nil, "shadow", false, ""},
		{"named enforce + label off = untouched", named(""), label("off"), nil, "off", false, "opted out"},
		{"named enforce + label shadow = shadow", named(""), label("shadow"), nil, "shadow", false, ""},
		{"named shadow + label enforce = shadow", named("shadow"), label("enforce"), nil, "shadow", false, ""},
		{"named off + label enforce = untouched", named("off"), label("enforce"), nil, "off", false, "off in the config"},
		{"not allowlisted + label enforce = untouched", none, label("enforce"), nil, "enforce", false, "is not on the allowlist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.cfg(&cfg)
			s := snapshot.Snapshot{Target: target, Service: snapshot.Service{Labels: tc.labels, Annotations: tc.annotations}}
			got := guard.Check(raisePlan("4Gi", ""), s, cfg, now)
			if got.Guard.Mode != tc.wantMode || got.Applyable != tc.applyable {
				t.Errorf("Check() mode %q applyable %v, want %q %v (refusals %v)", got.Guard.Mode, got.Applyable, tc.wantMode, tc.applyable, got.Guard.Refusals)
			}
			var msgs []string
			for _, r := range got.Guard.Refusals {
				if r.Rule == guard.RuleAllowlist {
					msgs = append(msgs, r.Message)
				}
			}
			switch {
			case tc.wantMsg == "" && len(msgs) > 0:
				t.Errorf("Check() allowlist refusals %q, want none", msgs)
			case tc.wantMsg != "" && (len(msgs) != 1 || !strings.Contains(msgs[0], tc.wantMsg)):
				t.Errorf("Check() allowlist refusals %q, want one containing %q", msgs, tc.wantMsg)
			}
			if len(got.Guard.Refusals) != len(msgs) {
				t.Errorf("Check() refusals %v, want only the allowlist's", got.Guard.Refusals)
			}
		})
	}
}
