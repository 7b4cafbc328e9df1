// Package signals derives, once and in Go, the facts about a snapshot that are awkward in Rego, so
// policies stay short and fast. Policies see them as input.signals.
package signals

// Signals are the derived facts. A fact that cannot be known (no data) is its zero value and the
// matching Has* flag is false where the difference matters; where zero is a meaningful value the
// field uses -1 instead, as its comment says. The exact rule behind each field is on the function
// that computes it (memory.go, spike.go, revisions.go, limits.go, history.go).
type Signals struct {
	// HasMemoryData is false when the memory series has no finite point; every memory_* field,
	// rising_minutes, resets and minutes_above_threshold are then 0.
	HasMemoryData bool `json:"has_memory_data"`
	// MemoryNow is the value of the newest point (0..1).
	MemoryNow float64 `json:"memory_now"`
	// MemoryMax is the largest value in the window.
	MemoryMax float64 `json:"memory_max"`
	// MemorySlopePerHour is the least-squares slope over the whole window, in utilization per
	// hour (0.1 = ten points of the limit an hour). 0 with fewer than two points.
	MemorySlopePerHour float64 `json:"memory_slope_per_hour"`
	// RisingMinutes is how long the smoothed trend has been up at the end of the window; 0 when it
	// is flat or falling. See risingMinutes.
	RisingMinutes int `json:"rising_minutes"`
	// Resets counts instance restarts: sudden drops (within 5 minutes) that undo at least half of
	// the climb they end, and are larger than max(0.05, 5·memory_noise). See cycles.
	Resets int `json:"resets"`
	// Threshold is the remediation threshold in force for the service: the config's
	// memory_threshold (per service, else the default), never the alert's threshold_value.
	Threshold float64 `json:"threshold"`
	// MinutesAboveThreshold is how many minutes, ending at the newest point, memory has been above
	// Threshold.
	MinutesAboveThreshold int `json:"minutes_above_threshold"`
	// MemoryBeforeServing is the mean memory in the hour before the serving revision was created,
	// -1 when there is no point in that hour (or no known serving revision). High here means the
	// memory was high before the deploy: not a regression.
	MemoryBeforeServing float64 `json:"memory_before_serving"`
	// RequestSpike is true for a recent burst of requests without a memory trend. See requestSpike.
	RequestSpike bool `json:"request_spike"`
	// ServingRevision is the revision serving the most traffic; "" when it cannot be told.
	ServingRevision string `json:"serving_revision"`
	// ServingRevisionAgeMinutes is the serving revision's age at captured_at, -1 when the revision
	// is not among the snapshot's revisions.
	ServingRevisionAgeMinutes int `json:"serving_revision_age_minutes"`
	// TrafficPinned is true when a REVISION entry carries 100 % of the traffic: a new revision
	// would get 0 %. An ordinary split between revisions is not a pin.
	TrafficPinned bool `json:"traffic_pinned"`
	// PreviousReadyRevision is the rollback target: the newest ready revision created before the
	// suspect revision (or, without a suspect, the serving one) that is not recorded as bad; ""
	// when there is none.
	PreviousReadyRevision string `json:"previous_ready_revision"`
	// MemoryLimitMiB is the serving container's memory limit.
	MemoryLimitMiB int64 `json:"memory_limit_mib"`
	// CPULimit is the serving container's CPU limit in cores.
	CPULimit float64 `json:"cpu_limit"`
	// NextMemoryStep is the memory a raise would set, formatted as Cloud Run shows it.
	NextMemoryStep string `json:"next_memory_step"` // "" at the ceiling
	// NextMemoryStepCPU is the CPU Cloud Run requires for NextMemoryStep when the current CPU is
	// below it.
	NextMemoryStepCPU string `json:"next_memory_step_cpu"` // CPU the next step needs, "" if the current suffices
	// SafeConcurrency is the runbook's concurrency that keeps memory under the 85 % alert line.
	SafeConcurrency int `json:"safe_concurrency"`
	// ActionsLast24h counts runmedic's changes to the service in the 24 hours before captured_at.
	ActionsLast24h int `json:"actions_last_24h"`
	// MinutesSinceLastAction is the age of runmedic's newest change to the service.
	MinutesSinceLastAction int `json:"minutes_since_last_action"` // -1 when never

	Trend
	Cycles
	Serving
	OOM
	Verification
}
