package snapshot

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const validSnapshot = `{
  "version": 1,
  "captured_at": "2026-02-04T10:30:00Z",
  "incident": {"id": "0.abc", "state": "open", "policy": "p", "condition": "c", "metric": "m",
    "observed": 0.93, "threshold": 0.85, "started_at": "2026-02-04T10:24:00Z", "ended_at": null,
    "severity": "Warning", "labels": {}},
  "target": {"project": "p", "location": "europe-west1", "service": "api"},
  "service": {"etag": "\"e\"", "generation": 3, "labels": {}, "annotations": {},
    "template": {"image": "img", "memory": "2Gi", "cpu": "1", "max_concurrency": 80, "min_instances": 0, "max_instances": 20},
    "traffic": [{"type": "LATEST", "percent": 100}],
    "latest_ready_revision": "api-00002-abc", "latest_created_revision": "api-00002-abc"},
  "revisions": [
    {"name": "api-00002-abc", "created_at": "2026-02-04T07:10:00Z", "ready": true, "image": "img", "memory": "2Gi", "cpu": "1", "max_concurrency": 80, "traffic_percent": 100},
    {"name": "api-00001-xyz", "created_at": "2026-02-01T07:10:00Z", "ready": true, "image": "img", "memory": "2Gi", "cpu": "1", "max_concurrency": 80, "traffic_percent": 0}
  ],
  "metrics": {"memory_utilization": [{"at": "2026-02-04T10:28:00Z", "value": 0.9}, {"at": "2026-02-04T10:29:00Z", "value": 0.93}],
    "instance_count": [], "request_count": []},
  "history": []
}`

func TestLoadValid(t *testing.T) {
	s, err := Load([]byte(validSnapshot))
	if err != nil {
		t.Fatalf("Load(valid) error: %v", err)
	}
	if got, want := s.Target.Name(), "projects/p/locations/europe-west1/services/api"; got != want {
		t.Errorf("Target.Name() = %q, want %q", got, want)
	}
	if s.Incident.Observed == nil || *s.Incident.Observed != 0.93 {
		t.Errorf("Incident.Observed = %v, want 0.93", s.Incident.Observed)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		old     string
		new     string
		wantMsg string
	}{
		{"not json", `{`, `[`, "invalid snapshot"},
		{"unknown field", `"history": []`, `"histroy": []`, `unknown field "histroy"`},
		{"version", `"version": 1`, `"version": 2`, "version: is 2, want 1"},
		{"revision time", `"created_at": "2026-02-01T07:10:00Z"`, `"created_at": "yesterday"`, `revisions[1].created_at: "yesterday" is not RFC 3339`},
		{"time as a number", `"captured_at": "2026-02-04T10:30:00Z"`, `"captured_at": 1770201000`, "captured_at: not an RFC 3339 time string"},
		{"wrong type", `"generation": 3`, `"generation": "3"`, "service.generation: want int64"},
		{"state", `"state": "open"`, `"state": "firing"`, `incident.state: is "firing", want open or closed`},
		{"memory", `"memory": "2Gi", "cpu": "1", "max_concurrency": 80, "min_instances"`, `"memory": "lots", "cpu": "1", "max_concurrency": 80, "min_instances"`, `service.template.memory: memory "lots"`},
		{"traffic sum", `"percent": 100}]`, `"percent": 90}]`, "service.traffic: percentages sum to 90, want 100"},
		{"revision order", `"2026-02-01T07:10:00Z"`, `"2026-02-05T07:10:00Z"`, "revisions[1].created_at: is newer than revisions[0]"},
		{"series order", `"2026-02-04T10:29:00Z"`, `"2026-02-04T10:27:00Z"`, "metrics.memory_utilization[1].at: not after the previous point"},
		{"missing target", `"service": "api"}`, `"service": ""}`, "target.service: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(validSnapshot, tt.old, tt.new, 1)
			if in == validSnapshot {
				t.Fatalf("test case does not change the input: %q not found", tt.old)
			}
			_, err := Load([]byte(in))
			if err == nil {
				t.Fatalf("Load() = nil error, want one containing %q", tt.wantMsg)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Load() error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Load() error = %q, want it to contain %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Load() error spans lines: %q", err)
			}
		})
	}
}

func TestShifted(t *testing.T) {
	s, err := Load([]byte(validSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	s.History = []Action{{Incident: "0.a", Action: "raise_memory", At: s.CapturedAt.Add(-time.Hour)}}
	s.Metrics.MemoryByRevision = map[string][]Point{"r1": {{At: s.CapturedAt, Value: 0.5}}}
	s.Logs = &Logs{Available: true, OOMKills: []OOMKill{{Revision: "r1", Count: 2, First: s.CapturedAt.Add(-time.Hour), Last: s.CapturedAt}}}
	d := 300 * 24 * time.Hour
	got := s.Shifted(d)
	if at := got.Metrics.MemoryByRevision["r1"][0].At; !at.Equal(s.CapturedAt.Add(d)) {
		t.Errorf("per-revision point at %v, want shifted by %v", at, d)
	}
	if k := got.Logs.OOMKills[0]; !k.First.Equal(s.CapturedAt.Add(d-time.Hour)) || !k.Last.Equal(s.CapturedAt.Add(d)) {
		t.Errorf("OOM kills %v .. %v, want shifted by %v", k.First, k.Last, d)
	}
	if !s.Logs.OOMKills[0].Last.Equal(s.CapturedAt) || s.Metrics.MemoryByRevision["r1"][0].At != s.CapturedAt {
		t.Error("Shifted changed the receiver's logs or per-revision series")
	}
	if !got.CapturedAt.Equal(s.CapturedAt.Add(d)) {
		t.Errorf("CapturedAt = %v, want %v", got.CapturedAt, s.CapturedAt.Add(d))
	}
	if age, want := got.CapturedAt.Sub(got.Revisions[1].CreatedAt), s.CapturedAt.Sub(s.Revisions[1].CreatedAt); age != want {
		t.Errorf("revision age after shift = %v, want %v", age, want)
	}
	if last := got.Metrics.MemoryUtilization[1].At; !last.Equal(s.Metrics.MemoryUtilization[1].At.Add(d)) {
		t.Errorf("last memory point at %v, want shifted by %v", last, d)
	}
	if !got.History[0].At.Equal(s.History[0].At.Add(d)) {
		t.Errorf("history at %v, want shifted", got.History[0].At)
	}
	if s.History[0].At.Equal(got.History[0].At) || s.Revisions[0].CreatedAt.Equal(got.Revisions[0].CreatedAt) {
		t.Error("Shifted changed its receiver")
	}
	if err := got.Validate(); err != nil {
		t.Errorf("shifted snapshot does not validate: %v", err)
	}
}
