package state

import (
	"encoding/json"
	"fmt"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Decode reads the annotation value. An absent annotation (v == "") is an empty State and no
// error. A corrupt value or one of another format version is also an empty State, returned with
// an error wrapping ErrUnreadable: a warning to log, never a reason to stop. A valid value comes
// back with the package invariants restored (a longer history written by hand is trimmed).
func Decode(v string) (State, error) {
	empty := State{Version: Version}
	if v == "" {
		return empty, nil
	}
	var s State
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return empty, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if s.Version != Version {
		return empty, fmt.Errorf("%w: format version %d, want %d", ErrUnreadable, s.Version, Version)
	}
	return s.normalize(), nil
}

// Encode writes s as compact JSON of at most MaxBytes. When s would be larger, the oldest actions
// are dropped first (the newest, the one usually being recorded, is kept), then the oldest
// escalations, then the oldest deliveries; a state that still does not fit is an error, never a truncated value. s itself is
// not modified.
func Encode(s State) (string, error) {
	s = s.clone().normalize()
	if s.Actions == nil {
		s.Actions = []snapshot.Action{} // "actions": [] rather than null
	}
	for {
		b, err := json.Marshal(s)
		if err != nil {
			return "", fmt.Errorf("encode state: %w", err)
		}
		if len(b) <= MaxBytes {
			return string(b), nil
		}
		switch {
		case len(s.Actions) > 1:
			s.Actions = s.Actions[:len(s.Actions)-1]
			s = s.normalize() // forget the unpublished key of the dropped action
		case len(s.Escalations) > 0:
			s.Escalations = s.Escalations[:len(s.Escalations)-1]
		case len(s.Deliveries) > 0:
			s.Deliveries = s.Deliveries[:len(s.Deliveries)-1]
		default:
			return "", fmt.Errorf("encode state: %d bytes with a single action, limit %d", len(b), MaxBytes)
		}
	}
}
