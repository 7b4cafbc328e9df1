package config

import (
	"fmt"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// The service's own say in its mode. Cloud Run label keys may hold only lowercase letters,
// digits, "_" and "-" (no "." or "/"), so the label spells runmedic.io/mode with "_"; the
// annotation carries it as written. Either one is read; when both are set the narrower wins.
const (
	ModeLabel      = "runmedic_io_mode"
	ModeAnnotation = "runmedic.io/mode"
)

// rank orders the modes from the one that does least: a label can only move a service down.
var rank = map[string]int{ModeOff: 0, ModeShadow: 1, ModeEnforce: 2}

// ModeOf is the mode in force for t given the live service's labels and annotations, and, when
// it is ModeOff, why, worded to follow the service's name. The config decides what may happen;
// the service's mode label only narrows it (config shadow + label enforce is shadow; config
// enforce + label off is off), never widens it: a service off the allowlist is off whatever it
// says. A service admitted by an AnyService rule is off until its label opts it in. A label value
// runmedic does not know is off too: a typo must not act.
//
// A config mode that is not a mode at all is returned unchanged for the guard to refuse.
func (c Config) ModeOf(t snapshot.Target, labels, annotations map[string]string) (mode, why string) {
	rule, ok := c.Allowed(t)
	if !ok {
		return ModeOff, "is not on the allowlist"
	}
	mode = c.ModeFor(t)
	if _, known := rank[mode]; !known {
		return mode, ""
	}
	if mode == ModeOff {
		return ModeOff, fmt.Sprintf("is off in the config (%s)", rule.Path())
	}
	fromLabel, okLabel := labels[ModeLabel]
	fromAnn, okAnn := annotations[ModeAnnotation]
	if !okLabel && !okAnn {
		if rule.Service == AnyService {
			return ModeOff, fmt.Sprintf("has not opted in: %s admits a service only with the label %s=enforce or shadow", rule.Path(), ModeLabel)
		}
		return mode, ""
	}
	for _, m := range []struct {
		key, value string
		set        bool
	}{
		{ModeLabel, fromLabel, okLabel},
		{ModeAnnotation, fromAnn, okAnn},
	} {
		if !m.set {
			continue
		}
		r, known := rank[m.value]
		switch {
		case !known:
			return ModeOff, fmt.Sprintf("carries %s=%q, which is none of %s, %s, %s: left untouched", m.key, m.value, ModeEnforce, ModeShadow, ModeOff)
		case r == rank[ModeOff]:
			return ModeOff, fmt.Sprintf("is opted out by %s=%s", m.key, m.value)
		case r < rank[mode]:
			mode = m.value
		}
	}
	return mode, ""
}

// Path names the rule as people read it in a refusal: projects/P/locations/L/services/S.
func (r ServiceRule) Path() string {
	return snapshot.Target{Project: r.Project, Location: r.Location, Service: r.Service}.Name()
}
