package alert

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on what a notification may carry. Anything an alert can fill is bounded here, once, so
// whatever keeps, shows or sends it (the audit event, messages, runmedic's records) never holds
// more. Names and labels past their bound are refused: Cloud Monitoring never sends them, so they
// are not an alert. Free text for people is cut instead, and the incident URL is dropped with a
// warning when it is not the scoping project's console URL.
const (
	// MaxIDBytes bounds incident_id. Cloud Monitoring's are about 14 bytes ("0.nrwotmyokd9n").
	MaxIDBytes = 256
	// MaxNameBytes bounds policy_name, condition_name, metric.type and severity: Cloud Monitoring
	// caps display names at 512 Unicode characters.
	MaxNameBytes = 2048
	// MaxLabels is Cloud Monitoring's limit of user labels on a policy (and on a resource).
	MaxLabels = 64
	// MaxLabelBytes bounds each label key and value: Cloud Monitoring allows 63 characters or 128
	// bytes, whichever is smaller.
	MaxLabelBytes = 128
	// MaxSummaryBytes is where the summary is cut (with "…"), as PagerDuty cuts its summary.
	MaxSummaryBytes = 1024
	// MaxDocumentationBytes is where documentation content is cut: Cloud Monitoring allows
	// 10,240 bytes.
	MaxDocumentationBytes = 10240
	// MaxObservedTextBytes is where a non-numeric observed_value is cut.
	MaxObservedTextBytes = 512
	// MaxURLBytes bounds the incident URL; longer ones are dropped.
	MaxURLBytes = 2048
	// ConsoleHost is the only host an incident URL may name.
	ConsoleHost = "console.cloud.google.com"
)

// incidentIDRE: incident ids are printable ASCII without spaces or slashes, so one can name a
// record or a dedup key as it is.
var incidentIDRE = regexp.MustCompile(`^[!-.0-~]+$`)

// consolePathRE: the two paths Cloud Monitoring links incidents under.
var consolePathRE = regexp.MustCompile(`^/monitoring/alerting/(incidents|alerts)/[A-Za-z0-9._-]{1,256}$`)

// checkName refuses a name that is too long or carries control characters.
func checkName(path, s string) error {
	if len(s) > MaxNameBytes {
		return fmt.Errorf("%s is %d bytes, longer than %d", path, len(s), MaxNameBytes)
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return fmt.Errorf("%s %s has a control character at byte %d", path, clip(s), i)
	}
	return nil
}

// checkIncidentID refuses an id that is too long or not printable ASCII without spaces and
// slashes.
func checkIncidentID(id string) error {
	if len(id) > MaxIDBytes {
		return fmt.Errorf("incident.incident_id is %d bytes, longer than %d", len(id), MaxIDBytes)
	}
	if !incidentIDRE.MatchString(id) {
		return fmt.Errorf("incident.incident_id %s has a character outside printable ASCII, a space or a slash", clip(id))
	}
	return nil
}

// checkLabels refuses more than MaxLabels labels, or a key or value over MaxLabelBytes.
func checkLabels(path string, m map[string]string) error {
	if len(m) > MaxLabels {
		return fmt.Errorf("%s has %d labels, more than %d", path, len(m), MaxLabels)
	}
	for k, v := range m {
		if len(k) > MaxLabelBytes {
			return fmt.Errorf("%s: key %s is %d bytes, longer than %d", path, clip(k), len(k), MaxLabelBytes)
		}
		if len(v) > MaxLabelBytes {
			return fmt.Errorf("%s.%s is %d bytes, longer than %d", path, clip(k), len(v), MaxLabelBytes)
		}
	}
	return nil
}

// cut shortens s to at most max bytes on a rune boundary, ending in "…" when it cut.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	n := max - len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

// consoleURL returns raw when it is a Cloud Console incident URL of one of projects (the
// scoping project, the service's project), else "" and the warning that says why it was dropped.
// Empty stays empty without a warning.
func consoleURL(raw string, projects ...string) (string, string) {
	if raw == "" {
		return "", ""
	}
	drop := func(why string) (string, string) {
		return "", fmt.Sprintf("incident.url dropped: %s", why)
	}
	if len(raw) > MaxURLBytes {
		return drop(fmt.Sprintf("%d bytes, longer than %d", len(raw), MaxURLBytes))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return drop("not a URL")
	}
	switch {
	case u.Scheme != "https" || u.Host != ConsoleHost || u.User != nil:
		return drop(fmt.Sprintf("%s is not https://%s", clip(raw), ConsoleHost))
	case !consolePathRE.MatchString(u.Path):
		return drop(fmt.Sprintf("path %s is not /monitoring/alerting/incidents/ID", clip(u.Path)))
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil || len(q["project"]) != 1 {
		return drop("it names no single project= parameter")
	}
	p := q.Get("project")
	for _, want := range projects {
		if want != "" && p == want {
			return raw, ""
		}
	}
	return drop(fmt.Sprintf("project=%s is neither the scoping project nor the service's", clip(p)))
}
