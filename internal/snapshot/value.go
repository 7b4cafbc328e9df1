package snapshot

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// A Change's Before and After hold what the planner put there (a string, an int, a bool, a
// []TrafficTarget) or, once read back from JSON (the ledger, a plan file, an audit event), what
// encoding/json made of it. The readers below are the one place either form is decoded, so no
// consumer of a change switches on its dynamic type.

// TrafficValue reads a change value as a traffic split. nil reads as no split: nil, nil.
func TrafficValue(v any) ([]TrafficTarget, error) {
	if ts, ok := v.([]TrafficTarget); ok {
		return ts, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%v (%T) is not a traffic split", v, v)
	}
	var ts []TrafficTarget
	if err := json.Unmarshal(raw, &ts); err != nil {
		return nil, fmt.Errorf("%s is not a traffic split: %w", raw, err)
	}
	return ts, nil
}

// IntValue reads a change value as a whole number (max_concurrency).
func IntValue(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%v is not whole", x)
		}
		return int64(x), nil
	case json.Number:
		return strconv.ParseInt(string(x), 10, 64)
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}

// TextValue reads a change value as the text Cloud Run uses for it: a quantity ("4Gi", "2",
// "1000m"), an image or a token, with a whole number written bare. ok is false for anything else.
func TextValue(v any) (s string, ok bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int, int32, int64, json.Number:
		return fmt.Sprint(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10), true
		}
	}
	return "", false
}
