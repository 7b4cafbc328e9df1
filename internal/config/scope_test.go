package config_test

import (
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// fleetConfig admits every opted-in service of p1/europe-west1 in enforce, every opted-in
// service of p2/us-central1 in shadow, billing in p1 explicitly (shadow), and turns legacy off.
func fleetConfig(t *testing.T) config.Config {
	t.Helper()
	c, err := config.Parse([]byte(`
services:
  - {project: p1, location: europe-west1, service: "*"}
  - {project: p2, location: us-central1, service: "*", mode: shadow}
  - {project: p1, location: europe-west1, service: billing, mode: shadow}
  - {project: p1, location: europe-west1, service: legacy, mode: "off"}
  - {project: p3, location: asia-east1, service: api}
`), mustDefault(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestModeOf(t *testing.T) {
	label := func(v string) map[string]string { return map[string]string{config.ModeLabel: v} }
	ann := func(v string) map[string]string { return map[string]string{config.ModeAnnotation: v} }
	tests := []struct {
		name                string
		target              snapshot.Target
		labels, annotations map[string]string
		want                string
		wantWhy             string // a part of why, "" for none
	}{
		{"named, no label: the config's mode", tg("p3", "asia-east1", "api"), nil, nil, "enforce", ""},
		{"named, label enforce", tg("p3", "asia-east1", "api"), label("enforce"), nil, "enforce", ""},
		{"named, label shadow narrows", tg("p3", "asia-east1", "api"), label("shadow"), nil, "shadow", ""},
		{"named, label off: untouched", tg("p3", "asia-east1", "api"), label("off"), nil, "off", "opted out by runmedic_io_mode=off"},
		{"named shadow, label enforce never widens", tg("p1", "europe-west1", "billing"), label("enforce"), nil, "shadow", ""},
		{"named off in the config, label enforce", tg("p1", "europe-west1", "legacy"), label("enforce"), nil, "off", "off in the config"},
		{"wildcard, no label: not opted in", tg("p1", "europe-west1", "web"), nil, nil, "off", "has not opted in"},
		{"wildcard, label enforce", tg("p1", "europe-west1", "web"), label("enforce"), nil, "enforce", ""},
		{"wildcard, label shadow", tg("p1", "europe-west1", "web"), label("shadow"), nil, "shadow", ""},
		{"wildcard, label off", tg("p1", "europe-west1", "web"), label("off"), nil, "off", "opted out"},
		{"wildcard, annotation enforce", tg("p1", "europe-west1", "web"), nil, ann("enforce"), "enforce", ""},
		{"wildcard shadow, label enforce", tg("p2", "us-central1", "web"), label("enforce"), nil, "shadow", ""},
		{"label enforce, annotation shadow: the narrower", tg("p1", "europe-west1", "web"), label("enforce"), ann("shadow"), "shadow", ""},
		{"label shadow, annotation off: the narrower", tg("p1", "europe-west1", "web"), label("shadow"), ann("off"), "off", "runmedic.io/mode=off"},
		{"unknown label value: untouched", tg("p1", "europe-west1", "web"), label("enforced"), nil, "off", `runmedic_io_mode="enforced"`},
		{"empty label value: untouched", tg("p1", "europe-west1", "web"), label(""), nil, "off", `runmedic_io_mode=""`},
		{"label case matters", tg("p1", "europe-west1", "web"), label("Enforce"), nil, "off", "none of"},
		{"not allowlisted, label enforce", tg("p9", "europe-west1", "web"), label("enforce"), nil, "off", "not on the allowlist"},
		{"other location of a wildcard project", tg("p1", "us-east1", "web"), label("enforce"), nil, "off", "not on the allowlist"},
	}
	c := fleetConfig(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := c.ModeOf(tt.target, tt.labels, tt.annotations)
			if got != tt.want {
				t.Errorf("ModeOf(%s, %v, %v) = %q (%s), want %q", tt.target.Name(), tt.labels, tt.annotations, got, why, tt.want)
			}
			if tt.wantWhy == "" && why != "" || tt.wantWhy != "" && !strings.Contains(why, tt.wantWhy) {
				t.Errorf("ModeOf(%s) why = %q, want %q in it", tt.target.Name(), why, tt.wantWhy)
			}
		})
	}
}

func TestAllowedPrefersTheNamedRule(t *testing.T) {
	c := fleetConfig(t)
	tests := []struct {
		target   snapshot.Target
		want     string // the rule's service, "" when not allowed
		wantMode string
	}{
		{tg("p1", "europe-west1", "billing"), "billing", "shadow"}, // named after the wildcard
		{tg("p1", "europe-west1", "web"), "*", "enforce"},
		{tg("p2", "us-central1", "web"), "*", "shadow"},
		{tg("p3", "asia-east1", "api"), "api", "enforce"},
		{tg("p3", "asia-east1", "web"), "", "enforce"},
	}
	for _, tt := range tests {
		r, ok := c.Allowed(tt.target)
		if ok != (tt.want != "") || r.Service != tt.want {
			t.Errorf("Allowed(%s) = %+v, %t; want rule %q", tt.target.Name(), r, ok, tt.want)
		}
		if got := c.ModeFor(tt.target); got != tt.wantMode {
			t.Errorf("ModeFor(%s) = %q, want %q", tt.target.Name(), got, tt.wantMode)
		}
	}
}

func tg(p, l, s string) snapshot.Target { return snapshot.Target{Project: p, Location: l, Service: s} }
