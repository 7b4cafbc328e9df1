package loggingtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
)

// clause is one `key OP "value"` term of a filter.
type clause struct {
	key, op, value string
	at             time.Time // the value of a timestamp clause
}

// resourceLabels are the cloud_run_revision labels a filter may name.
var resourceLabels = map[string]bool{
	"project_id": true, "location": true, "service_name": true, "configuration_name": true, "revision_name": true,
}

// parseFilter reads the subset of the Logging query language runmedic sends: terms joined by AND,
// each `resource.type = "T"`, `resource.labels.L = "V"`, `textPayload : "S"` (has: a
// case-insensitive substring), `textPayload = "S"`, or `timestamp OP "RFC3339"` with OP one of
// >=, >, <=, <. Anything else is an error, so a reader that drifts from the subset fails loudly
// instead of matching what the real API would not.
func parseFilter(f string) ([]clause, error) {
	rest := strings.TrimSpace(f)
	if rest == "" {
		return nil, fmt.Errorf("filter is empty: runmedic always narrows its reads")
	}
	var out []clause
	for {
		c, after, err := parseClause(rest)
		if err != nil {
			return nil, fmt.Errorf("filter %q: %w", f, err)
		}
		out = append(out, c)
		rest = strings.TrimSpace(after)
		if rest == "" {
			return out, nil
		}
		next, ok := strings.CutPrefix(rest, "AND ")
		if !ok {
			return nil, fmt.Errorf("filter %q: want AND before %q", f, rest)
		}
		rest = strings.TrimSpace(next)
	}
}

func parseClause(s string) (clause, string, error) {
	i := strings.IndexFunc(s, func(r rune) bool {
		return !(r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	if i <= 0 {
		return clause{}, "", fmt.Errorf("want a field at %q", s)
	}
	c := clause{key: s[:i]}
	rest := strings.TrimSpace(s[i:])
	for _, op := range []string{">=", "<=", ">", "<", "=", ":"} {
		if after, ok := strings.CutPrefix(rest, op); ok {
			c.op, rest = op, strings.TrimSpace(after)
			break
		}
	}
	if c.op == "" || strings.HasPrefix(rest, "~") {
		return clause{}, "", fmt.Errorf("want =, :, >=, >, <= or < after %q", c.key)
	}
	if !supported(c.key, c.op) {
		return clause{}, "", fmt.Errorf("%s %s is not supported by loggingtest", c.key, c.op)
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil || !strings.HasPrefix(quoted, `"`) {
		return clause{}, "", fmt.Errorf("want a double-quoted value for %q", c.key)
	}
	if c.value, err = strconv.Unquote(quoted); err != nil {
		return clause{}, "", fmt.Errorf("value of %q: %w", c.key, err)
	}
	if c.key == "timestamp" {
		if c.at, err = time.Parse(time.RFC3339Nano, c.value); err != nil {
			return clause{}, "", fmt.Errorf("timestamp %q: want RFC 3339", c.value)
		}
	}
	return c, rest[len(quoted):], nil
}

func supported(key, op string) bool {
	switch {
	case key == "resource.type":
		return op == "="
	case key == "textPayload":
		return op == "=" || op == ":"
	case key == "timestamp":
		return op != "=" && op != ":"
	}
	label, ok := strings.CutPrefix(key, "resource.labels.")
	return ok && resourceLabels[label] && op == "="
}

// matches reports whether e satisfies every clause.
func matches(e *loggingpb.LogEntry, clauses []clause) bool {
	for _, c := range clauses {
		if !c.holds(e) {
			return false
		}
	}
	return true
}

func (c clause) holds(e *loggingpb.LogEntry) bool {
	switch c.key {
	case "resource.type":
		return e.GetResource().GetType() == c.value
	case "textPayload":
		text, ok := e.GetPayload().(*loggingpb.LogEntry_TextPayload)
		if !ok {
			return false
		}
		if c.op == ":" {
			return strings.Contains(strings.ToLower(text.TextPayload), strings.ToLower(c.value))
		}
		return text.TextPayload == c.value
	case "timestamp":
		at := e.GetTimestamp().AsTime()
		switch c.op {
		case ">=":
			return !at.Before(c.at)
		case ">":
			return at.After(c.at)
		case "<=":
			return !at.After(c.at)
		default:
			return at.Before(c.at)
		}
	}
	label := strings.TrimPrefix(c.key, "resource.labels.")
	return e.GetResource().GetLabels()[label] == c.value
}
