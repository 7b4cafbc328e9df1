package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// fields reads loosely typed JSON values by path and keeps the first error, so a decoder reads
// every field in a straight line and checks once. Every value is kept as json.RawMessage until
// here: a field of the wrong type yields `incident.ended_at: want a string, got object` instead of
// encoding/json's Go-typed message.
type fields struct{ err error }

func (f *fields) fail(path, format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...))
	}
}

// kind is the JSON kind of raw: "" when absent, else null, string, number, boolean, object, array.
func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case 'n':
		return "null"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}

func isNull(raw json.RawMessage) bool {
	k := kind(raw)
	return k == "" || k == "null"
}

// str reads a string; a number is taken as its literal text (Monitoring sends numbers as
// strings, hand-written payloads sometimes do not). Absent or null is "".
func (f *fields) str(path string, raw json.RawMessage) string {
	switch k := kind(raw); k {
	case "", "null":
		return ""
	case "string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			f.fail(path, "%v", err)
			return ""
		}
		return s
	case "number":
		return string(bytes.TrimSpace(raw))
	default:
		f.fail(path, "want a string, got %s", k)
		return ""
	}
}

// object decodes an object into v (a struct of json.RawMessage fields); absent or null leaves v
// untouched and reports false.
func (f *fields) object(path string, raw json.RawMessage, v any) bool {
	switch k := kind(raw); k {
	case "", "null":
		return false
	case "object":
		if err := json.Unmarshal(raw, v); err != nil {
			f.fail(path, "%v", err)
			return false
		}
		return true
	default:
		f.fail(path, "want an object, got %s", k)
		return false
	}
}

// labels reads a map of label values. Values are strings in practice; numbers and booleans are
// kept as their literal text, nulls are dropped.
func (f *fields) labels(path string, raw json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if !f.object(path, raw, &m) {
		return nil
	}
	out := make(map[string]string, len(m))
	for key, v := range m {
		switch k := kind(v); k {
		case "null":
		case "string":
			out[key] = f.str(path, v)
		case "number", "boolean":
			out[key] = string(bytes.TrimSpace(v))
		default:
			f.fail(path, "label %s: want a string, got %s", clip(key), k)
			return nil
		}
	}
	return out
}

// maxUnix is 10000-01-01T00:00:00Z: later instants cannot be written as RFC 3339.
const maxUnix = 253402300800

// unix reads Unix seconds, as a number or a numeric string. Absent, null, "" and 0 are nil: the
// test notification sends 0 for "no time".
func (f *fields) unix(path string, raw json.RawMessage) *time.Time {
	s := strings.TrimSpace(f.str(path, raw))
	if f.err != nil || s == "" {
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		f.fail(path, "want Unix seconds, got %s", clip(s))
		return nil
	}
	if x < 0 || x >= maxUnix {
		f.fail(path, "Unix seconds %s out of range", clip(s))
		return nil
	}
	sec := int64(math.Floor(x))
	if sec == 0 {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}

// number parses a Monitoring value string ("0.934", "7679.000"). Text, NaN and infinities are nil:
// they are not measurements and cannot be written as JSON numbers.
func number(s string) *float64 {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// clip quotes s for an error message, cut to 64 runes so a hostile payload cannot flood the log.
func clip(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:max])) + "…"
}

// malformed classifies err as ErrMalformed.
func malformed(err error) error {
	return fmt.Errorf("alert: %w: %w", ErrMalformed, err)
}
