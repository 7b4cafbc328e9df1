package config_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func mustDefault(t *testing.T) config.Config {
	t.Helper()
	c, err := config.Default()
	if err != nil {
		t.Fatalf("Default() = %v", err)
	}
	return c
}

func dur(d time.Duration) config.Duration { return config.Duration{Duration: d} }

func TestDefaultIsTheDesignConfig(t *testing.T) {
	want := config.Config{
		Defaults: config.Defaults{
			Mode:             config.ModeEnforce,
			MemorySteps:      []string{"512Mi", "1Gi", "2Gi", "4Gi", "8Gi", "16Gi", "32Gi"},
			MemoryCeiling:    "8Gi",
			CPUCeiling:       "4",
			Cooldown:         dur(15 * time.Minute),
			MaxActionsPerDay: 3,
			RegressionWindow: dur(24 * time.Hour),
			VerifyAfter:      dur(10 * time.Minute),
			VerifyBelow:      0.80,
			Escalation: []config.EscalationStep{
				{After: dur(5 * time.Minute), Notify: "backend-lead@aiprod.ai"},
				{After: dur(15 * time.Minute), Notify: "service-lead"},
				{After: dur(30 * time.Minute), Notify: "engineering-manager"},
			},
			MaxEventAge:                dur(time.Hour),
			RevertOnFailedVerification: false,
			MemoryThreshold:            0.85,
		},
		Services: []config.ServiceRule{{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-api"}},
		Fleet:    config.Fleet{MaxChangesPerHour: 100, MaxConcurrentRollouts: 25},
	}
	if diff := cmp.Diff(want, mustDefault(t)); diff != "" {
		t.Errorf("Default() (-want +got):\n%s", diff)
	}
}

func TestParseMerges(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		change func(*config.Config)
	}{
		{"empty document keeps the base", "", func(*config.Config) {}},
		{"comment only keeps the base", "# nothing\n", func(*config.Config) {}},
		{"one default changes, the rest stays", "defaults:\n  mode: shadow\n", func(c *config.Config) {
			c.Defaults.Mode = config.ModeShadow
		}},
		{"durations parse", "defaults:\n  cooldown: 1h30m\n", func(c *config.Config) {
			c.Defaults.Cooldown = dur(90 * time.Minute)
		}},
		{"lists replace whole", "defaults:\n  escalation:\n    - {after: 1m, notify: oncall}\n", func(c *config.Config) {
			c.Defaults.Escalation = []config.EscalationStep{{After: dur(time.Minute), Notify: "oncall"}}
		}},
		{"a shorter list element does not inherit the base's fields", "defaults:\n  escalation:\n    - {after: 2m, notify: a}\n    - {after: 3m, notify: b}\n", func(c *config.Config) {
			c.Defaults.Escalation = []config.EscalationStep{{After: dur(2 * time.Minute), Notify: "a"}, {After: dur(3 * time.Minute), Notify: "b"}}
		}},
		{"services replace the allowlist", "services:\n  - {project: p, location: l, service: s, mode: shadow}\n", func(c *config.Config) {
			c.Services = []config.ServiceRule{{Project: "p", Location: "l", Service: "s", Mode: config.ModeShadow}}
		}},
		{"an empty allowlist is allowed", "services: []\n", func(c *config.Config) {
			c.Services = []config.ServiceRule{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := mustDefault(t)
			want := mustDefault(t)
			tt.change(&want)
			got, err := config.Parse([]byte(tt.yaml), base)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.yaml, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.yaml, diff)
			}
			if diff := cmp.Diff(mustDefault(t), base); diff != "" {
				t.Errorf("Parse(%q) modified its base (-before +after):\n%s", tt.yaml, diff)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown top-level key", "default:\n  mode: shadow\n", `unknown key default (line 1, column 1): did you mean defaults?`},
		{"unknown nested key", "defaults:\n  cooldwn: 5m\n", `unknown key defaults.cooldwn (line 2, column 3): did you mean cooldown?`},
		{"unknown key in a list", "defaults:\n  escalation:\n    - after: 5m\n      notfy: a\n", `unknown key defaults.escalation[0].notfy (line 4, column 7): did you mean notify?`},
		{"unknown key nothing like a known one", "defaults:\n  colour: red\n", `unknown key defaults.colour (line 2, column 3): known keys here are cooldown,`},
		{"duplicate key", "defaults:\n  mode: shadow\n  mode: enforce\n", "key \"mode\" already set"},
		{"bad mode", "defaults:\n  mode: yolo\n", `defaults.mode: "yolo" is neither "enforce" nor "shadow"`},
		{"bad duration", "defaults:\n  cooldown: soon\n", `duration "soon"`},
		{"wrong type", "defaults:\n  max_actions_per_day: many\n", "defaults.max_actions_per_day: want int"},
		{"memory step does not parse", "defaults:\n  memory_steps: [1Gi, 2Gx]\n", `defaults.memory_steps[1]: memory "2Gx"`},
		{"memory steps do not ascend", "defaults:\n  memory_steps: [1Gi, 4Gi, 2Gi]\n", "defaults.memory_steps[2]: 2Gi does not ascend from 4Gi"},
		{"no memory steps", "defaults:\n  memory_steps: []\n", "defaults.memory_steps: empty"},
		{"ceiling does not parse", "defaults:\n  memory_ceiling: big\n", `defaults.memory_ceiling: memory "big"`},
		{"ceiling above Cloud Run", "defaults:\n  memory_ceiling: 64Gi\n", "defaults.memory_ceiling: 64Gi is above Cloud Run's maximum of 32Gi"},
		{"cpu ceiling", "defaults:\n  cpu_ceiling: lots\n", `defaults.cpu_ceiling: cpu "lots"`},
		{"verify_below at 1", "defaults:\n  verify_below: 1\n", "defaults.verify_below: 1, want a fraction between 0 and 1"},
		{"verify_below at 0", "defaults:\n  verify_below: 0\n", "defaults.verify_below: 0, want a fraction"},
		{"memory_threshold at 1", "defaults:\n  memory_threshold: 1\n", "defaults.memory_threshold: 1, want a fraction between 0 and 1"},
		{"memory_threshold as text", "defaults:\n  memory_threshold: high\n", "defaults.memory_threshold: want float64, got string"},
		{"memory_threshold under verify_below", "defaults:\n  memory_threshold: 0.75\n", "defaults.verify_below: 0.8 is not below memory_threshold 0.75"},
		{"service memory_threshold under verify_below", "services:\n  - {project: p, location: l, service: s, memory_threshold: 0.7}\n", "services[0].memory_threshold: 0.7 is not above defaults.verify_below 0.8"},
		{"service memory_threshold above 1", "services:\n  - {project: p, location: l, service: s, memory_threshold: 85}\n", "services[0].memory_threshold: 85, want a fraction between 0 and 1"},
		{"budget of zero", "defaults:\n  max_actions_per_day: 0\n", "defaults.max_actions_per_day: 0, want at least 1"},
		{"negative cooldown", "defaults:\n  cooldown: -5m\n", "defaults.cooldown: -5m is negative"},
		{"negative fleet limit", "fleet:\n  max_concurrent_rollouts: -1\n", "fleet.max_concurrent_rollouts: -1 is negative"},
		{"zero regression window", "defaults:\n  regression_window: 0s\n", "defaults.regression_window: 0s, want a positive duration"},
		{"escalation not ascending", "defaults:\n  escalation:\n    - {after: 15m, notify: a}\n    - {after: 5m, notify: b}\n", "defaults.escalation[1].after: 5m does not ascend from 15m"},
		{"escalation without target", "defaults:\n  escalation:\n    - {after: 5m}\n", "defaults.escalation[0].notify: empty"},
		{"service without location", "services:\n  - {project: p, service: s}\n", "services[0].location: empty"},
		{"service without project", "services:\n  - {location: l, service: s}\n", "services[0].project: empty"},
		{"service without name", "services:\n  - {project: p, location: l}\n", "services[0].service: empty"},
		{"service with a bad mode", "services:\n  - {project: p, location: l, service: s, mode: paused}\n", `services[0].mode: "paused" is none of`},
		{"wildcard project", "services:\n  - {project: \"*\", location: l, service: \"*\"}\n", `services[0]: "*" stands only for a service`},
		{"wildcard location", "services:\n  - {project: p, location: \"*\", service: s}\n", `services[0]: "*" stands only for a service`},
		{"yaml 1.1 boolean as a mode", "services:\n  - {project: p, location: l, service: s, mode: off}\n", "services.mode: want string, got bool (line 2, column 49)"},
		{"wrong type has a position", "defaults:\n  max_actions_per_day: many\n", "(line 2, column 24)"},
		{"not a mapping", "- a\n- b\n", "config: "},
		{"not yaml", "defaults: [\n", "config: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml), mustDefault(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tt.yaml, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse(%q) error spans lines: %q", tt.yaml, err)
			}
		})
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 15 * time.Minute: "15m",
		90 * time.Second: "1m30s", 0: "0s", time.Hour + time.Second: "1h0m1s",
	} {
		b, err := json.Marshal(dur(d))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(b); got != `"`+want+`"` {
			t.Errorf("json.Marshal(%v) = %s, want %q", d, got, want)
		}
		var back config.Duration
		if err := json.Unmarshal(b, &back); err != nil || back.Duration != d {
			t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", b, back.Duration, err, d)
		}
	}
}

// TestDefaultsForServiceThreshold: a service's memory_threshold replaces the default for it only.
func TestDefaultsForServiceThreshold(t *testing.T) {
	c, err := config.Parse([]byte("defaults:\n  memory_threshold: 0.9\nservices:\n  - {project: p, location: l, service: hot, memory_threshold: 0.82}\n  - {project: p, location: l, service: plain}\n"), mustDefault(t))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	for _, tt := range []struct {
		service string
		want    float64
	}{{"hot", 0.82}, {"plain", 0.9}, {"not-listed", 0.9}} {
		got := c.DefaultsFor(snapshot.Target{Project: "p", Location: "l", Service: tt.service}).MemoryThreshold
		if got != tt.want {
			t.Errorf("DefaultsFor(%s).MemoryThreshold = %g, want %g", tt.service, got, tt.want)
		}
	}
	if c.Defaults.MemoryThreshold != 0.9 {
		t.Errorf("Defaults.MemoryThreshold = %g after DefaultsFor, want 0.9 unchanged", c.Defaults.MemoryThreshold)
	}
}
