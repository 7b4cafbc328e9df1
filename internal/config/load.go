package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"reflect"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/runmedic/runmedic/internal/quantity"
	"github.com/runmedic/runmedic/policies"
)

// DefaultPath is where the bundled config lives inside policies.FS.
const DefaultPath = "data/config.yaml"

// Default is the bundled policies/data/config.yaml, validated. It is the base every --config
// override merges over.
func Default() (Config, error) {
	b, err := policies.FS.ReadFile(DefaultPath)
	if err != nil {
		return Config{}, fmt.Errorf("read bundled config: %w", err)
	}
	c, err := ParsePolicySet(b, Config{})
	if err != nil {
		return Config{}, fmt.Errorf("bundled config %s: %w", DefaultPath, err)
	}
	return c, nil
}

// Parse merges the YAML document src over base and validates the result. Objects merge key by
// key (a partial file changes only what it names); lists replace the base list whole; a key
// runmedic does not know is an error naming it, so a typo never silently keeps a default.
// base is never modified. Under policy:, only keys base declares may be set, each to a value of
// the declared JSON type.
func Parse(src []byte, base Config) (Config, error) {
	return parse(src, base, false)
}

// ParsePolicySet is Parse for a policy set's own data/config.yaml, which may also declare new
// keys under policy: (its default value gives each key's type).
func ParsePolicySet(src []byte, base Config) (Config, error) {
	return parse(src, base, true)
}

func parse(src []byte, base Config, declare bool) (Config, error) {
	if err := checkKeys(src, reflect.TypeFor[Config]()); err != nil {
		return Config{}, err
	}
	js, err := yaml.YAMLToJSONStrict(src)
	if err != nil {
		// The YAML library's messages span lines; one line reads better in a log.
		return Config{}, fmt.Errorf("config: %s", strings.Join(strings.Fields(err.Error()), " "))
	}
	c := base
	// Lists replace: decode into nil slices (encoding/json would otherwise reuse and merge the
	// base's elements), then put back the base's lists the document did not name.
	c.Services = nil
	c.Defaults.MemorySteps = nil
	c.Defaults.Escalation = nil
	c.Freeze = nil
	c.Recipients = maps.Clone(base.Recipients) // recipients merge by name; one named is replaced whole
	c.Policy = maps.Clone(base.Policy)         // decoding merges into the map: never into base's
	if t := bytes.TrimSpace(js); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("config: %s%s", decodeMessage(err), typeErrorPosition(src, err))
		}
		if dec.More() {
			return Config{}, errors.New("config: more than one document")
		}
		if _, err := dec.Token(); err != io.EOF {
			return Config{}, errors.New("config: trailing data after the document")
		}
	}
	if c.Services == nil {
		c.Services = slices.Clone(base.Services)
	}
	if c.Defaults.MemorySteps == nil {
		c.Defaults.MemorySteps = slices.Clone(base.Defaults.MemorySteps)
	}
	if c.Freeze == nil {
		c.Freeze = slices.Clone(base.Freeze)
	}
	if c.Defaults.Escalation == nil {
		c.Defaults.Escalation = slices.Clone(base.Defaults.Escalation)
	}
	if !declare {
		if err := checkPolicyKeys(src, base.Policy, c.Policy); err != nil {
			return Config{}, err
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decodeMessage turns encoding/json's errors into messages that name the YAML key.
func decodeMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: want %s, got %s", te.Field, te.Type, te.Value)
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown key " + rest
	}
	return strings.TrimPrefix(msg, "json: ")
}

// Validate reports the first field that runmedic cannot work with, named by its YAML path.
func (c Config) Validate() error {
	d := c.Defaults
	if d.Mode != ModeEnforce && d.Mode != ModeShadow {
		return fmt.Errorf("defaults.mode: %q is neither %q nor %q", d.Mode, ModeEnforce, ModeShadow)
	}
	if len(d.MemorySteps) == 0 {
		return errors.New("defaults.memory_steps: empty")
	}
	var prev int64
	for i, s := range d.MemorySteps {
		mib, err := quantity.ParseMemory(s)
		if err != nil {
			return fmt.Errorf("defaults.memory_steps[%d]: %w", i, err)
		}
		if mib <= prev {
			return fmt.Errorf("defaults.memory_steps[%d]: %s does not ascend from %s", i, s, d.MemorySteps[i-1])
		}
		prev = mib
	}
	ceiling, err := quantity.ParseMemory(d.MemoryCeiling)
	if err != nil {
		return fmt.Errorf("defaults.memory_ceiling: %w", err)
	}
	if ceiling > quantity.MaxMemoryMiB {
		return fmt.Errorf("defaults.memory_ceiling: %s is above Cloud Run's maximum of %s", d.MemoryCeiling, quantity.FormatMemory(quantity.MaxMemoryMiB))
	}
	if _, err := quantity.ParseCPU(d.CPUCeiling); err != nil {
		return fmt.Errorf("defaults.cpu_ceiling: %w", err)
	}
	if d.Cooldown.Duration < 0 {
		return fmt.Errorf("defaults.cooldown: %s is negative", d.Cooldown)
	}
	if c.Fleet.MaxChangesPerHour < 0 {
		return fmt.Errorf("fleet.max_changes_per_hour: %d is negative", c.Fleet.MaxChangesPerHour)
	}
	if c.Fleet.MaxConcurrentRollouts < 0 {
		return fmt.Errorf("fleet.max_concurrent_rollouts: %d is negative", c.Fleet.MaxConcurrentRollouts)
	}
	if d.MaxActionsPerDay < 1 {
		return fmt.Errorf("defaults.max_actions_per_day: %d, want at least 1", d.MaxActionsPerDay)
	}
	for _, f := range []struct {
		name string
		v    Duration
	}{
		{"regression_window", d.RegressionWindow},
		{"verify_after", d.VerifyAfter},
		{"max_event_age", d.MaxEventAge},
	} {
		if f.v.Duration <= 0 {
			return fmt.Errorf("defaults.%s: %s, want a positive duration", f.name, f.v)
		}
	}
	if d.VerifyBelow <= 0 || d.VerifyBelow >= 1 {
		return fmt.Errorf("defaults.verify_below: %g, want a fraction between 0 and 1", d.VerifyBelow)
	}
	if d.MemoryThreshold <= 0 || d.MemoryThreshold >= 1 {
		return fmt.Errorf("defaults.memory_threshold: %g, want a fraction between 0 and 1", d.MemoryThreshold)
	}
	// A change is verified when memory stays below verify_below: at or above the threshold, a
	// service could be verified healthy while still counting as high.
	if d.VerifyBelow >= d.MemoryThreshold {
		return fmt.Errorf("defaults.verify_below: %g is not below memory_threshold %g", d.VerifyBelow, d.MemoryThreshold)
	}
	for i, e := range d.Escalation {
		if e.Notify == "" {
			return fmt.Errorf("defaults.escalation[%d].notify: empty", i)
		}
		if e.After.Duration < 0 {
			return fmt.Errorf("defaults.escalation[%d].after: %s is negative", i, e.After)
		}
		if i > 0 && e.After.Duration <= d.Escalation[i-1].After.Duration {
			return fmt.Errorf("defaults.escalation[%d].after: %s does not ascend from %s", i, e.After, d.Escalation[i-1].After)
		}
	}
	if err := c.validatePeople(); err != nil {
		return err
	}
	for i, s := range c.Services {
		switch {
		case s.Project == "":
			return fmt.Errorf("services[%d].project: empty", i)
		case s.Location == "":
			return fmt.Errorf("services[%d].location: empty", i)
		case s.Service == "":
			return fmt.Errorf("services[%d].service: empty", i)
		case s.Project == AnyService || s.Location == AnyService:
			return fmt.Errorf("services[%d]: %q stands only for a service; name the project and location", i, AnyService)
		case s.Mode != "" && s.Mode != ModeEnforce && s.Mode != ModeShadow && s.Mode != ModeOff:
			return fmt.Errorf("services[%d].mode: %q is none of %q, %q, %q", i, s.Mode, ModeEnforce, ModeShadow, ModeOff)
		case s.MemoryThreshold < 0 || s.MemoryThreshold >= 1:
			return fmt.Errorf("services[%d].memory_threshold: %g, want a fraction between 0 and 1", i, s.MemoryThreshold)
		case s.MemoryThreshold != 0 && s.MemoryThreshold <= d.VerifyBelow:
			return fmt.Errorf("services[%d].memory_threshold: %g is not above defaults.verify_below %g", i, s.MemoryThreshold, d.VerifyBelow)
		}
	}
	return nil
}

// ForPolicies is the config a policy set decides with, the same in the CLI and the function: the
// bundled default, then the policy set's own data/config.yaml if it has one, then overlay (the
// content of a --config or RUNMEDIC_CONFIG file; nil for none), named overlayName in errors.
func ForPolicies(policySet fs.FS, overlay []byte, overlayName string) (Config, error) {
	cfg, err := Default()
	if err != nil {
		return Config{}, err
	}
	b, err := fs.ReadFile(policySet, DefaultPath)
	switch {
	case err == nil:
		if cfg, err = ParsePolicySet(b, cfg); err != nil {
			return Config{}, fmt.Errorf("policies %s: %w", DefaultPath, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return Config{}, fmt.Errorf("policies %s: %w", DefaultPath, err)
	}
	if overlay != nil {
		if cfg, err = Parse(overlay, cfg); err != nil {
			return Config{}, fmt.Errorf("%s: %w", overlayName, err)
		}
	}
	return cfg, nil
}
