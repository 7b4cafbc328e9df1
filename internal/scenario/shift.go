package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// ShiftIncident moves a raw notification's started_at and ended_at (Unix seconds) by d and
// leaves everything else as it was written. Live demos and end-to-end tests use it with
// snapshot.Shifted so a fixture's incident starts as long before now as it did before its capture.
func ShiftIncident(raw []byte, d time.Duration) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var n map[string]any
	if err := dec.Decode(&n); err != nil {
		return nil, fmt.Errorf("shift incident: %w", err)
	}
	inc, ok := n["incident"].(map[string]any)
	if !ok {
		return raw, nil // nothing to shift: the payload is what it is
	}
	for _, k := range []string{"started_at", "ended_at"} {
		v, ok := inc[k].(json.Number)
		if !ok {
			continue
		}
		sec, err := v.Int64()
		if err != nil {
			return nil, fmt.Errorf("shift incident: %s %q: %w", k, v, err)
		}
		inc[k] = sec + int64(d/time.Second)
	}
	return json.Marshal(n)
}
