package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// notification is the Cloud Monitoring notification (schema 1.2) that starts the run.
func notification(name string, started time.Time, observed, threshold float64, revision, state string) ([]byte, error) {
	id := incidentID(name)
	labels := map[string]string{"project_id": project, "service_name": service, "location": location, "configuration_name": service}
	groupBy := []string{"resource.label.project_id", "resource.label.service_name", "resource.label.location"}
	if revision != "" {
		labels["revision_name"] = revision
		groupBy = append(groupBy, "resource.label.revision_name")
	}
	var ended any
	if state == snapshot.StateClosed {
		ended = capturedAt.Add(-time.Minute).Unix()
	}
	n := map[string]any{
		"version": "1.2",
		"incident": map[string]any{
			"incident_id":            id,
			"scoping_project_id":     project,
			"scoping_project_number": 512345678901,
			"url":                    "https://console.cloud.google.com/monitoring/alerting/alerts/" + id + "?project=" + project,
			"severity":               "Warning",
			"started_at":             started.Unix(),
			"ended_at":               ended,
			"state":                  state,
			"summary":                fmt.Sprintf("Container Memory Utilization for %s %s is above the threshold of %.3f with a value of %.3f.", project, service, threshold, observed),
			"observed_value":         fmt.Sprintf("%.3f", observed),
			"threshold_value":        fmt.Sprintf("%g", threshold),
			"resource":               map[string]any{"type": "cloud_run_revision", "labels": labels},
			"resource_name":          project + " " + service,
			"metric":                 map[string]any{"type": "run.googleapis.com/container/memory/utilizations", "displayName": "Container Memory Utilization", "labels": map[string]string{}},
			"metadata":               map[string]any{"system_labels": map[string]string{}, "user_labels": map[string]string{}},
			"policy_name":            "alert-memory-high",
			"policy_user_labels":     map[string]string{"remediation": "auto"},
			"condition_name":         "Cloud Run memory p99 > 85%",
			"condition": map[string]any{
				"name":        "projects/" + project + "/alertPolicies/1187322/conditions/99811",
				"displayName": "Cloud Run memory p99 > 85%",
				"conditionThreshold": map[string]any{
					"filter": `resource.type = "cloud_run_revision" AND metric.type = "run.googleapis.com/container/memory/utilizations"`,
					"aggregations": []any{map[string]any{"alignmentPeriod": "60s", "perSeriesAligner": "ALIGN_PERCENTILE_99",
						"crossSeriesReducer": "REDUCE_MAX", "groupByFields": groupBy}},
					"comparison": "COMPARISON_GT", "thresholdValue": threshold, "duration": "300s",
				},
			},
			"documentation": map[string]any{"content": "Runbook: RUNBOOK-memory-oom.md", "mime_type": "text/markdown"},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// thisIncident in a scene's history stands for the scene's own incident.
const thisIncident = "@"

// incidentID is the case's stable incident id.
func incidentID(name string) string { return "0.gen" + shortHash(name) }

// shortHash is a stable ten-letter id for a case name (FNV-1a).
func shortHash(s string) string {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return fmt.Sprintf("%010x", h>>24)[:10]
}
