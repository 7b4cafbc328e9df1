package monitoringtest

import (
	"fmt"
	"strconv"
	"strings"
)

// clause is one `key = "value"` term of a filter; keys are normalised to the singular
// "resource.label." and "metric.label." forms.
type clause struct{ key, value string }

// parseFilter reads the subset of the Monitoring filter language runmedic uses: terms
// `key = "value"` joined by AND. Anything else is an error, so a caller that drifts from that
// subset fails loudly instead of silently matching everything.
func parseFilter(f string) ([]clause, error) {
	var out []clause
	rest := strings.TrimSpace(f)
	for {
		var c clause
		var err error
		c, rest, err = parseClause(rest)
		if err != nil {
			return nil, fmt.Errorf("filter %q: %w", f, err)
		}
		out = append(out, c)
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return out, nil
		}
		after, ok := strings.CutPrefix(rest, "AND ")
		if !ok {
			return nil, fmt.Errorf("filter %q: want AND before %q", f, rest)
		}
		rest = strings.TrimSpace(after)
	}
}

func parseClause(s string) (clause, string, error) {
	i := strings.IndexFunc(s, func(r rune) bool {
		return !(r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	if i <= 0 {
		return clause{}, "", fmt.Errorf("want a label key at %q", s)
	}
	key := normaliseKey(s[:i])
	if !knownKey(key) {
		return clause{}, "", fmt.Errorf("unsupported key %q", s[:i])
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(s[i:]), "=")
	if !ok || strings.HasPrefix(rest, "~") {
		return clause{}, "", fmt.Errorf("want = after %q", key)
	}
	rest = strings.TrimSpace(rest)
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil || !strings.HasPrefix(quoted, `"`) {
		return clause{}, "", fmt.Errorf("want a double-quoted value for %q", key)
	}
	value, err := strconv.Unquote(quoted)
	if err != nil {
		return clause{}, "", fmt.Errorf("value of %q: %w", key, err)
	}
	return clause{key: key, value: value}, rest[len(quoted):], nil
}

// normaliseKey accepts both the singular and plural label forms the real API accepts.
func normaliseKey(k string) string {
	for _, p := range []string{"resource", "metric"} {
		if name, ok := strings.CutPrefix(k, p+".labels."); ok {
			return p + ".label." + name
		}
	}
	return k
}

func knownKey(k string) bool {
	switch k {
	case "metric.type", "resource.type",
		"resource.label.project_id", "resource.label.location", "resource.label.service_name",
		"resource.label.configuration_name", "resource.label.revision_name":
		return true
	}
	name, ok := strings.CutPrefix(k, "metric.label.")
	return ok && name != ""
}

// resourceType is the monitored resource of every scripted series.
const resourceType = "cloud_run_revision"

// lookup returns the value of a normalised key for ts; a metric label ts lacks is "".
func lookup(ts Series, key string) string {
	switch key {
	case "metric.type":
		return ts.Metric
	case "resource.type":
		return resourceType
	case "resource.label.project_id":
		return ts.Target.Project
	case "resource.label.location":
		return ts.Target.Location
	case "resource.label.service_name", "resource.label.configuration_name":
		return ts.Target.Service
	case "resource.label.revision_name":
		return ts.Revision
	}
	return ts.MetricLabels[strings.TrimPrefix(key, "metric.label.")]
}
