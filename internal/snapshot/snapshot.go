// Package snapshot defines snapshot v1: everything a decision needs about one Cloud Run service,
// captured at one instant. It is the policy input and the fixture format, so its JSON shape is a
// public contract: fields may be added, never renamed or removed.
package snapshot

import (
	"fmt"
	"time"
)

// Version is the only snapshot format version this code reads and writes.
const Version = 1

// Snapshot is one observation of a service under an incident. Offline, "now" is CapturedAt, so a
// fixture yields the same plan forever.
type Snapshot struct {
	Version    int        `json:"version"`
	CapturedAt time.Time  `json:"captured_at"`
	Incident   Incident   `json:"incident"`
	Target     Target     `json:"target"`
	Service    Service    `json:"service"`
	Revisions  []Revision `json:"revisions"` // newest first; every revision that still exists
	Metrics    Metrics    `json:"metrics"`
	History    []Action   `json:"history"` // what runmedic did to this service, newest first
	// Logs is the OOM-kill evidence read from Cloud Logging over the window. Nil when it was not
	// read at all (an older snapshot); Available false when the read failed.
	Logs *Logs `json:"logs,omitempty"`
}

// Incident is the alert that triggered the run, decoded from a Cloud Monitoring notification.
type Incident struct {
	ID        string `json:"id"`
	State     string `json:"state"` // "open" or "closed"
	Policy    string `json:"policy"`
	Condition string `json:"condition"`
	Metric    string `json:"metric"`
	// Observed is nil when Monitoring sent text instead of a number (a cancelled incident);
	// the text is kept in ObservedText.
	Observed     *float64          `json:"observed"`
	ObservedText string            `json:"observed_text,omitempty"`
	Threshold    *float64          `json:"threshold"`
	StartedAt    time.Time         `json:"started_at"`
	EndedAt      *time.Time        `json:"ended_at"`
	Severity     string            `json:"severity"`
	Labels       map[string]string `json:"labels"`
	URL          string            `json:"url,omitempty"`
	Summary      string            `json:"summary,omitempty"`
	// Revision is the alert's resource.labels.revision_name: the revision whose series crossed
	// the threshold. Empty when the alert policy grouped it away.
	Revision string `json:"revision,omitempty"`
}

// Incident states as Cloud Monitoring sends them (lowercased).
const (
	StateOpen   = "open"
	StateClosed = "closed"
)

// Target names one Cloud Run service.
type Target struct {
	Project  string `json:"project"`
	Location string `json:"location"`
	Service  string `json:"service"`
}

// Name is the Cloud Run Admin API resource name of the service.
func (t Target) Name() string {
	return fmt.Sprintf("projects/%s/locations/%s/services/%s", t.Project, t.Location, t.Service)
}

// Service is the live service: the parts of runpb.Service a decision reads.
type Service struct {
	Etag                  string            `json:"etag"`
	Generation            int64             `json:"generation"`
	Labels                map[string]string `json:"labels"`
	Annotations           map[string]string `json:"annotations"`
	Template              Template          `json:"template"`
	Containers            []Container       `json:"containers,omitempty"` // only for multi-container services
	Traffic               []TrafficTarget   `json:"traffic"`
	LatestReadyRevision   string            `json:"latest_ready_revision"`
	LatestCreatedRevision string            `json:"latest_created_revision"`
}

// Template flattens the revision template around its serving container (the one with a port, or
// the only one).
type Template struct {
	Image          string `json:"image"`
	Memory         string `json:"memory"` // Cloud Run quantity: "512Mi", "2Gi"
	CPU            string `json:"cpu"`    // "1", "2", "1000m"
	MaxConcurrency int    `json:"max_concurrency"`
	MinInstances   int    `json:"min_instances"`
	MaxInstances   int    `json:"max_instances"`
}

// Container is one container of a multi-container template, kept raw.
type Container struct {
	Name    string `json:"name"`
	Image   string `json:"image"`
	Memory  string `json:"memory"`
	CPU     string `json:"cpu"`
	Serving bool   `json:"serving"` // the container that receives traffic
}

// TrafficTarget is one entry of the service's traffic split.
type TrafficTarget struct {
	Type     string `json:"type"` // "LATEST" or "REVISION"
	Revision string `json:"revision,omitempty"`
	Percent  int    `json:"percent"`
	Tag      string `json:"tag,omitempty"`
}

// Traffic allocation types, as Cloud Run names them without the enum prefix.
const (
	TrafficLatest   = "LATEST"
	TrafficRevision = "REVISION"
)

// Revision is one revision of the service.
type Revision struct {
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
	Ready          bool      `json:"ready"` // the Ready condition succeeded
	Image          string    `json:"image"`
	Memory         string    `json:"memory"`
	CPU            string    `json:"cpu"`
	MaxConcurrency int       `json:"max_concurrency"`
	TrafficPercent int       `json:"traffic_percent"` // what it serves now
}

// Metrics are the service's time series, one point a minute, oldest first. A series with no data
// is empty, never zeros.
type Metrics struct {
	MemoryUtilization []Point `json:"memory_utilization"` // p99 container memory utilization, 0..1
	InstanceCount     []Point `json:"instance_count"`
	RequestCount      []Point `json:"request_count"`
	ServerErrorCount  []Point `json:"server_error_count,omitempty"` // 5xx responses a minute
	// MemoryByRevision is p99 memory utilization per revision name, aligned like
	// MemoryUtilization. Absent in version-1 snapshots written before it existed.
	MemoryByRevision map[string][]Point `json:"memory_by_revision,omitempty"`
}

// Point is one sample of a series.
type Point struct {
	At    time.Time `json:"at"`
	Value float64   `json:"value"`
}

// Action is one thing runmedic did to the service, as recorded in its state.
type Action struct {
	Incident string    `json:"incident"`
	Action   string    `json:"action"`
	At       time.Time `json:"at"`
	Changes  []Change  `json:"changes"`
	Outcome  Outcome   `json:"outcome"` // OutcomeApplied, OutcomeVerified, OutcomeFailed or OutcomeReverted
	Revision string    `json:"revision,omitempty"`
}

// Changed reports whether the action changed the service. It is the one rule the budget and the
// cooldown count by, in the signals and in the guard: an escalation changes nothing, while a
// change whose verification failed did land (and counts).
func (a Action) Changed() bool { return len(a.Changes) > 0 }

// Change is one field of the service moved from Before to After. Paths are fixed names:
// template.memory, template.cpu, template.max_concurrency, template.image, template.restart,
// traffic. Before and After are typed values that read back from JSON as they were written.
type Change struct {
	Path   string `json:"path"`
	Before Value  `json:"before"`
	After  Value  `json:"after"`
}

// Change paths.
const (
	PathMemory         = "template.memory"
	PathCPU            = "template.cpu"
	PathMaxConcurrency = "template.max_concurrency"
	PathImage          = "template.image"
	PathRestart        = "template.restart"
	PathTraffic        = "traffic"
)

// Logs is what Cloud Logging says about OOM kills in the window: Cloud Run writes one entry on
// cloud_run_revision each time an instance exceeds its memory limit.
type Logs struct {
	Available bool      `json:"available"`           // false: the read failed; signals stay absent
	Error     string    `json:"error,omitempty"`     // why the read failed
	Truncated bool      `json:"truncated,omitempty"` // a page or time bound was hit
	OOMKills  []OOMKill `json:"oom_kills"`           // per revision, newest kill first
}

// OOMKill summarises the OOM-kill entries of one revision.
type OOMKill struct {
	Revision   string    `json:"revision"`
	Count      int       `json:"count"`
	LimitMiB   float64   `json:"limit_mib"`    // the limit the entries name
	MaxUsedMiB float64   `json:"max_used_mib"` // the largest "used" any entry reports
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
}
