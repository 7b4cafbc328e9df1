// Package config holds runmedic's configuration: the runbook's defaults and the allowlist of
// services it may touch. The same values reach the policies as data.runmedic.config.
package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Config is policies/data/config.yaml, merged with any --config override.
type Config struct {
	Defaults Defaults      `json:"defaults"`
	Services []ServiceRule `json:"services"` // the allowlist: nothing else is ever touched
	// Recipients route the people named in the escalation table to their sinks. Empty: steps go
	// to the notification topic only.
	Recipients map[string]Recipient `json:"recipients,omitempty"`
	// Freeze are the windows in which runmedic changes nothing and notifies instead.
	Freeze []FreezeWindow `json:"freeze,omitempty"`
	// Policy holds keys a policy set declares for itself (data.runmedic.config.policy): the
	// set's own data/config.yaml declares each with its default value, and a later config may
	// set only declared keys, to a value of the same JSON type (see ParsePolicySet).
	Policy map[string]any `json:"policy,omitempty"`
	// Fleet are limits over every service together, checked when a change is claimed in the
	// ledger.
	Fleet Fleet `json:"fleet"`
}

// Fleet limits; 0 is no limit.
type Fleet struct {
	MaxChangesPerHour     int `json:"max_changes_per_hour"`    // changes to all services in any hour
	MaxConcurrentRollouts int `json:"max_concurrent_rollouts"` // changes issued and not yet recorded
}

// Defaults are the runbook's numbers. Every field has a value in the bundled config.yaml.
type Defaults struct {
	Mode             string   `json:"mode"` // ModeEnforce or ModeShadow
	MemorySteps      []string `json:"memory_steps"`
	MemoryCeiling    string   `json:"memory_ceiling"`
	CPUCeiling       string   `json:"cpu_ceiling"`
	Cooldown         Duration `json:"cooldown"`
	MaxActionsPerDay int      `json:"max_actions_per_day"`
	RegressionWindow Duration `json:"regression_window"`
	VerifyAfter      Duration `json:"verify_after"`
	VerifyBelow      float64  `json:"verify_below"`
	// MemoryThreshold is the p99 memory utilization above which memory counts as high. It is
	// runmedic's own line: the alert's threshold_value is shown, never trusted, so a notification
	// that claims a lower one cannot make a healthy service look high.
	MemoryThreshold            float64          `json:"memory_threshold"`
	Escalation                 []EscalationStep `json:"escalation"`
	MaxEventAge                Duration         `json:"max_event_age"`
	RevertOnFailedVerification bool             `json:"revert_on_failed_verification"`
}

// Modes.
const (
	ModeEnforce = "enforce" // plan, guard, apply
	ModeShadow  = "shadow"  // plan and record, never apply
	// ModeOff leaves a service untouched: no change, no page, no state written. A service rule or
	// the service's own mode label may say it; defaults.mode may not (an empty allowlist does).
	ModeOff = "off"
)

// EscalationStep is one row of the runbook's escalation table, timed from the incident's start.
type EscalationStep struct {
	After  Duration `json:"after"`
	Notify string   `json:"notify"`
}

// ServiceRule admits one service, or with Service AnyService every service of a project and
// location that opts in with its mode label. Mode and MemoryThreshold, when
// set, override the defaults for the services it admits.
type ServiceRule struct {
	Project         string  `json:"project"`
	Location        string  `json:"location"`
	Service         string  `json:"service"`
	Mode            string  `json:"mode,omitempty"`
	MemoryThreshold float64 `json:"memory_threshold,omitempty"`
}

// AnyService in a rule's service admits every service of its project and location that carries
// the mode label (ModeLabel or ModeAnnotation) with a mode other than off.
const AnyService = "*"

// Allowed reports whether t is on the allowlist, and the rule that admits it. A rule naming t
// wins over an AnyService rule of its project and location, whatever their order, so a named
// rule can give one service of an opted-in project its own mode (or turn it off).
func (c Config) Allowed(t snapshot.Target) (ServiceRule, bool) {
	var wild ServiceRule
	found := false
	for _, r := range c.Services {
		if r.Project != t.Project || r.Location != t.Location {
			continue
		}
		switch r.Service {
		case t.Service:
			return r, true
		case AnyService:
			if !found {
				wild, found = r, true
			}
		}
	}
	return wild, found
}

// ModeFor is the mode the config gives t: its rule's mode, else the default. The service's own
// label can only narrow it; see ModeOf.
func (c Config) ModeFor(t snapshot.Target) string {
	if r, ok := c.Allowed(t); ok && r.Mode != "" {
		return r.Mode
	}
	return c.Defaults.Mode
}

// DefaultsFor is the defaults in force for t: its rule's memory_threshold, when set, replaces
// the default one. Signals are computed with these, so the line memory is judged against is the
// service's own.
func (c Config) DefaultsFor(t snapshot.Target) Defaults {
	d := c.Defaults
	if r, ok := c.Allowed(t); ok && r.MemoryThreshold > 0 {
		d.MemoryThreshold = r.MemoryThreshold
	}
	return d
}

// Duration is a time.Duration written as Go duration text ("15m", "24h") in YAML and JSON.
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as text, which Rego's time.parse_duration_ns reads.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// String is the shortest Go duration text: "24h", "1h30m", "15m", "90s" (not "24h0m0s"), as
// people write it in config.yaml and read it in plans and evidence.
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// UnmarshalJSON reads duration text such as "15m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want text like \"15m\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	d.Duration = v
	return nil
}
