package config_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/runmedic/runmedic/internal/config"
)

// TestPolicyKeys: a policy set declares the keys it reads under policy:, and later configs may
// set only those, to a value of the same type.
func TestPolicyKeys(t *testing.T) {
	set := fstest.MapFS{"data/config.yaml": {Data: []byte("policy:\n  office_hours_zone: America/New_York\n  office_hours: [9, 18]\n  act_at_night: false\n")}}
	base, err := config.ForPolicies(set, nil, "")
	if err != nil {
		t.Fatalf("ForPolicies with declared keys = %v", err)
	}
	if base.Policy["office_hours_zone"] != "America/New_York" {
		t.Fatalf("declared policy keys = %v, want office_hours_zone with its default", base.Policy)
	}

	got, err := config.Parse([]byte("policy:\n  act_at_night: true\n"), base)
	if err != nil {
		t.Fatalf("Parse(a declared key) = %v", err)
	}
	if got.Policy["act_at_night"] != true || got.Policy["office_hours_zone"] != "America/New_York" {
		t.Errorf("merged policy keys = %v, want act_at_night true and the other defaults kept", got.Policy)
	}
	if base.Policy["act_at_night"] != false {
		t.Errorf("Parse changed its base: act_at_night = %v", base.Policy["act_at_night"])
	}

	for _, tt := range []struct{ name, yaml, want string }{
		{"a misspelt key", "policy:\n  ofice_hours: [8, 17]\n",
			"config: unknown key policy.ofice_hours (line 2, column 3): did you mean office_hours?; a policy set declares its keys"},
		{"a key nothing like a declared one", "policy:\n  weekend_team: ops\n",
			"unknown key policy.weekend_team (line 2, column 3): the policy set declares act_at_night, office_hours, office_hours_zone"},
		{"another type", "policy:\n  act_at_night: sometimes\n",
			"config: policy.act_at_night (line 2, column 17): want a boolean like the declared default, got a string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml), base)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tt.yaml, err, tt.want)
			}
		})
	}

	if _, err := config.Parse([]byte("policy:\n  anything: 1\n"), mustDefault(t)); err == nil || !strings.Contains(err.Error(), "unknown key policy.anything") {
		t.Errorf("Parse(policy key over the bundled set, which declares none) = %v, want it refused", err)
	}
}
