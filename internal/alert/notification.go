package alert

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strings"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// The wire shapes keep every value raw; fields reads them with their path (see fields.go).
type wireNotification struct {
	Version  json.RawMessage `json:"version"`
	Incident json.RawMessage `json:"incident"`
}

type wireIncident struct {
	IncidentID       json.RawMessage `json:"incident_id"`
	ScopingProjectID json.RawMessage `json:"scoping_project_id"`
	URL              json.RawMessage `json:"url"`
	Severity         json.RawMessage `json:"severity"`
	StartedAt        json.RawMessage `json:"started_at"`
	EndedAt          json.RawMessage `json:"ended_at"`
	State            json.RawMessage `json:"state"`
	Summary          json.RawMessage `json:"summary"`
	ObservedValue    json.RawMessage `json:"observed_value"`
	ThresholdValue   json.RawMessage `json:"threshold_value"`
	Resource         json.RawMessage `json:"resource"`
	Metric           json.RawMessage `json:"metric"`
	Metadata         json.RawMessage `json:"metadata"`
	PolicyName       json.RawMessage `json:"policy_name"`
	PolicyUserLabels json.RawMessage `json:"policy_user_labels"`
	ConditionName    json.RawMessage `json:"condition_name"`
	Condition        json.RawMessage `json:"condition"`
	Documentation    json.RawMessage `json:"documentation"`
}

type wireResource struct {
	Type   json.RawMessage `json:"type"`
	Labels json.RawMessage `json:"labels"`
}

type wireMetric struct {
	Type json.RawMessage `json:"type"`
}

type wireMetadata struct {
	UserLabels json.RawMessage `json:"user_labels"`
}

// wireCondition is the AlertPolicy condition as API JSON: camelCase keys.
type wireCondition struct {
	DisplayName        json.RawMessage `json:"displayName"`
	ConditionThreshold struct {
		ThresholdValue json.RawMessage `json:"thresholdValue"`
	} `json:"conditionThreshold"`
}

type wireDocumentation struct {
	Content json.RawMessage `json:"content"`
}

// decodeNotification reads the notification document itself: checks in the order structure,
// version, incident fields, resource type, target labels.
func decodeNotification(raw []byte) (Alert, error) {
	var n wireNotification
	if err := decodeObject("notification", raw, &n); err != nil {
		return Alert{}, malformed(err)
	}
	var f fields
	version := f.str("version", n.Version)
	var in wireIncident
	hasIncident := f.object("incident", n.Incident, &in)
	if f.err != nil {
		return Alert{}, malformed(f.err)
	}
	if version == "test" {
		var tf fields
		policy := tf.str("incident.policy_name", in.PolicyName)
		return Alert{}, fmt.Errorf("alert: %w: version \"test\" from policy %s is a channel test; never acted on", ErrTestNotification, clip(policy))
	}
	if !supportedVersion(version) {
		return Alert{}, fmt.Errorf("alert: %w: version %s; runmedic reads notification schema 1.x (written for %s)", ErrUnsupportedVersion, clip(version), SchemaVersion)
	}
	if !hasIncident {
		return Alert{}, malformed(fmt.Errorf("no incident"))
	}

	inc, res, err := readIncident(&in)
	if err != nil {
		return Alert{}, malformed(err)
	}
	if res.typ != ResourceType {
		if res.typ == "" {
			return Alert{}, fmt.Errorf("alert: %w: incident %s has no resource.type; runmedic only remediates Cloud Run services (%s)", ErrUnsupportedResource, clip(inc.ID), ResourceType)
		}
		return Alert{}, fmt.Errorf("alert: %w: resource type %s is not %s; runmedic only remediates Cloud Run services", ErrUnsupportedResource, clip(res.typ), ResourceType)
	}
	target, revision, err := readTarget(inc.ID, res.labels)
	if err != nil {
		return Alert{}, err
	}
	inc.Incident.Revision = revision
	var warnings []string
	var w string
	if inc.URL, w = consoleURL(inc.URL, inc.scopingProject, target.Project); w != "" {
		warnings = append(warnings, w)
	}
	return Alert{
		Version:       version,
		Incident:      inc.Incident,
		Target:        target,
		Revision:      revision,
		Documentation: inc.documentation,
		Warnings:      warnings,
	}, nil
}

// supportedVersion: missing (hand-written fixtures) or 1.x; the test version is handled before.
func supportedVersion(v string) bool {
	if v == "" || v == "1" {
		return true
	}
	minor, ok := strings.CutPrefix(v, "1.")
	if !ok || minor == "" {
		return false
	}
	return strings.Trim(minor, "0123456789") == ""
}

type incident struct {
	snapshot.Incident
	documentation  string
	scopingProject string
}

type resource struct {
	typ    string
	labels map[string]string
}

// readIncident maps the incident fields. Labels: the resource's user labels (metadata.user_labels)
// overlaid by the policy's user labels (policy_user_labels) on the same key, because the policy is
// the operator's declaration of how runmedic treats the alert while resource labels are set by
// whoever deploys the service; resource labels can only add keys.
func readIncident(in *wireIncident) (incident, resource, error) {
	var f fields
	var out incident
	out.ID = strings.TrimSpace(f.str("incident.incident_id", in.IncidentID))
	out.State = strings.ToLower(strings.TrimSpace(f.str("incident.state", in.State)))
	out.Policy = f.str("incident.policy_name", in.PolicyName)
	out.Condition = f.str("incident.condition_name", in.ConditionName)
	out.Severity = f.str("incident.severity", in.Severity)
	out.URL = f.str("incident.url", in.URL)
	out.Summary = cut(f.str("incident.summary", in.Summary), MaxSummaryBytes)
	out.scopingProject = strings.TrimSpace(f.str("incident.scoping_project_id", in.ScopingProjectID))
	started := f.unix("incident.started_at", in.StartedAt)
	out.EndedAt = f.unix("incident.ended_at", in.EndedAt)

	observed := f.str("incident.observed_value", in.ObservedValue)
	if out.Observed = number(observed); out.Observed == nil {
		out.ObservedText = cut(observed, MaxObservedTextBytes)
	}
	out.Threshold = number(f.str("incident.threshold_value", in.ThresholdValue))

	var res wireResource
	f.object("incident.resource", in.Resource, &res)
	r := resource{typ: f.str("incident.resource.type", res.Type), labels: f.labels("incident.resource.labels", res.Labels)}

	var metric wireMetric
	f.object("incident.metric", in.Metric, &metric)
	out.Metric = f.str("incident.metric.type", metric.Type)

	var meta wireMetadata
	f.object("incident.metadata", in.Metadata, &meta)
	userLabels := f.labels("incident.metadata.user_labels", meta.UserLabels)
	policyLabels := f.labels("incident.policy_user_labels", in.PolicyUserLabels)
	if f.err != nil {
		return incident{}, resource{}, f.err
	}
	for _, l := range []struct {
		path string
		m    map[string]string
	}{{"incident.resource.labels", r.labels}, {"incident.metadata.user_labels", userLabels}, {"incident.policy_user_labels", policyLabels}} {
		if err := checkLabels(l.path, l.m); err != nil {
			return incident{}, resource{}, err
		}
	}
	out.Labels = make(map[string]string, len(userLabels)+len(policyLabels))
	maps.Copy(out.Labels, userLabels)
	maps.Copy(out.Labels, policyLabels)

	// Informative extras, read leniently (a value of an unexpected type is ignored): their shape
	// differs between payloads (camelCase API JSON in condition; documentation is an object in 1.2
	// and a string in older and test payloads).
	var lf fields
	var cond wireCondition
	if lf.object("incident.condition", in.Condition, &cond) {
		if out.Condition == "" {
			out.Condition = lf.str("condition.displayName", cond.DisplayName)
		}
		if out.Threshold == nil {
			out.Threshold = number(lf.str("condition.conditionThreshold.thresholdValue", cond.ConditionThreshold.ThresholdValue))
		}
	}
	var doc wireDocumentation
	switch kind(in.Documentation) {
	case "string":
		out.documentation = lf.str("incident.documentation", in.Documentation)
	case "object":
		if lf.object("incident.documentation", in.Documentation, &doc) {
			out.documentation = lf.str("documentation.content", doc.Content)
		}
	}
	out.documentation = cut(out.documentation, MaxDocumentationBytes)

	if out.ID == "" {
		return incident{}, resource{}, fmt.Errorf("incident.incident_id is missing")
	}
	if err := checkIncidentID(out.ID); err != nil {
		return incident{}, resource{}, err
	}
	for _, n := range []struct{ path, value string }{
		{"incident.policy_name", out.Policy}, {"incident.condition_name", out.Condition},
		{"incident.severity", out.Severity}, {"incident.metric.type", out.Metric},
	} {
		if err := checkName(n.path, n.value); err != nil {
			return incident{}, resource{}, fmt.Errorf("incident %s: %w", clip(out.ID), err)
		}
	}
	switch {
	case out.State != snapshot.StateOpen && out.State != snapshot.StateClosed:
		return incident{}, resource{}, fmt.Errorf("incident %s: state %s is not open or closed", clip(out.ID), clip(out.State))
	case started == nil:
		return incident{}, resource{}, fmt.Errorf("incident %s: started_at is missing", clip(out.ID))
	}
	out.StartedAt = *started
	return out, r, nil
}

var (
	// Project IDs: lowercase letters, digits, hyphens; legacy domain-scoped IDs add "." and ":".
	projectRE = regexp.MustCompile(`^[a-z][a-z0-9.:-]{0,99}$`)
	// Regions, Cloud Run service and revision names: lowercase letters, digits, hyphens.
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
)

// readTarget names the service from the cloud_run_revision labels. The project comes from
// resource.labels.project_id only, never from scoping_project_id: a metrics scope spans projects,
// so the scoping project is not necessarily the service's.
func readTarget(id string, labels map[string]string) (snapshot.Target, string, error) {
	t := snapshot.Target{
		Project:  strings.TrimSpace(labels["project_id"]),
		Location: strings.TrimSpace(labels["location"]),
		Service:  strings.TrimSpace(labels["service_name"]),
	}
	var missing []string
	for _, l := range []struct{ name, value string }{{"project_id", t.Project}, {"service_name", t.Service}, {"location", t.Location}} {
		if l.value == "" {
			missing = append(missing, l.name)
		}
	}
	if len(missing) > 0 {
		return snapshot.Target{}, "", fmt.Errorf("alert: %w: incident %s has no resource.labels %s (aggregated away); group the alert policy by resource.label.service_name, resource.label.location and resource.label.project_id",
			ErrMissingLabels, clip(id), strings.Join(missing, ", "))
	}
	revision := strings.TrimSpace(labels["revision_name"])
	for _, l := range []struct {
		name, value string
		re          *regexp.Regexp
	}{{"project_id", t.Project, projectRE}, {"location", t.Location, nameRE}, {"service_name", t.Service, nameRE}, {"revision_name", revision, nameRE}} {
		if l.value != "" && !l.re.MatchString(l.value) {
			return snapshot.Target{}, "", malformed(fmt.Errorf("incident %s: resource.labels.%s %s is not a valid name", clip(id), l.name, clip(l.value)))
		}
	}
	return t, revision, nil
}
