package signals

// Trend is how memory moves, robust to noise and seen through restarts (growth.go, trend.go).
type Trend struct {
	// MemoryNoise is the standard deviation of one point around the trend (utilization), from the
	// MAD of minute-to-minute differences.
	MemoryNoise float64 `json:"memory_noise"`
	// MemoryTrendPerHour is the Theil–Sen slope over the whole window, utilization per hour.
	MemoryTrendPerHour float64 `json:"memory_trend_per_hour"`
	// GrowthMinutes is how long memory has been growing at the end of the window, through
	// restarts; 0 when it is not growing.
	GrowthMinutes int `json:"growth_minutes"`
	// GrowthPerHour is the rate of that growth, utilization per hour; 0 when not growing.
	GrowthPerHour float64 `json:"growth_per_hour"`
	// MemoryPlateau is true when memory is level at the end of the window, judged against the
	// noise.
	MemoryPlateau bool `json:"memory_plateau"`
	// MinutesToLimit is how long memory takes, at GrowthPerHour from its current level, to reach
	// the limit; -1 when it is not growing.
	MinutesToLimit int `json:"minutes_to_limit"`
}

// Cycles are the stretches between restarts (cycles.go).
type Cycles struct {
	// Cycles counts the stretches between restarts: resets + 1 with data, 0 without.
	Cycles int `json:"cycles"`
	// CycleGrowthPerHour is the median climb rate of the cycles long enough to measure that grow,
	// utilization per hour; 0 when none grows.
	CycleGrowthPerHour float64 `json:"cycle_growth_per_hour"`
	// CycleMinutesToLimit is the median minutes from the start of a cycle to the restart that
	// ends it; -1 without a restart.
	CycleMinutesToLimit int `json:"cycle_minutes_to_limit"`
	// GrowthAcrossRestarts is the newest floor after a restart minus the first one (utilization):
	// memory a restart no longer gives back. 0 with fewer than two restarts.
	GrowthAcrossRestarts float64 `json:"growth_across_restarts"`
}

// Serving describes the revisions that serve traffic and which of them is suspect
// (perrevision.go).
type Serving struct {
	// AlertRevision is the alert's revision_name; "" when the alert policy grouped it away.
	AlertRevision string `json:"alert_revision"`
	// ServingRevisions are every revision with a traffic share, largest share first.
	ServingRevisions []RevisionSignals `json:"serving_revisions"`
	// SuspectRevision is a revision younger than the regression window whose memory rose after
	// it took traffic while the older serving revisions did not; "" when there is none.
	SuspectRevision string `json:"suspect_revision"`
	// SuspectBy says what pointed at the suspect: "alert" (the alert's revision, rising),
	// "memory" (its own series rising) or "oom_kills" (kills on it alone); "" without a suspect.
	SuspectBy string `json:"suspect_by"`
	// SuspectRevisionAgeMinutes is the suspect's age; -1 without a suspect.
	SuspectRevisionAgeMinutes int `json:"suspect_revision_age_minutes"`
	// SuspectPercent is the suspect's traffic share, 0 without a suspect.
	SuspectPercent int `json:"suspect_percent"`
	// MemoryBeforeSuspect is the service's mean memory in the hour before the suspect was
	// created; -1 without a suspect or without points there.
	MemoryBeforeSuspect float64 `json:"memory_before_suspect"`
	// SuspectMemoryNow is the newest point of the suspect's own series (or the service's).
	SuspectMemoryNow float64 `json:"suspect_memory_now"`
}

// RevisionSignals describe one revision that serves traffic.
type RevisionSignals struct {
	Name       string `json:"name"`
	Percent    int    `json:"percent"`
	AgeMinutes int    `json:"age_minutes"` // -1 when the revision is not in the snapshot
	// MemoryBefore is the service's mean memory in the hour before the revision was created, -1
	// without points there.
	MemoryBefore float64 `json:"memory_before"`
	MemoryNow    float64 `json:"memory_now"`
	// GrowthMinutes and Rising read the revision's own series when the snapshot has one, else the
	// service's (OwnSeries says which).
	GrowthMinutes int  `json:"growth_minutes"`
	Rising        bool `json:"rising"`
	OwnSeries     bool `json:"own_series"`
}

// OOM is the OOM-kill evidence from Cloud Logging (oom.go). Every pointer is nil, and absent from
// the policy input, when the logs were not read or could not be: unknown is not zero.
type OOM struct {
	// LogsAvailable is true when the OOM-kill entries were read.
	LogsAvailable bool `json:"logs_available"`
	// LogsError is why they could not be read; "" when they were or were not asked for.
	LogsError string `json:"logs_error,omitempty"`
	// OOMKills is the number of OOM kills in the window, all revisions.
	OOMKills *int `json:"oom_kills,omitempty"`
	// OOMKillsByRevision is the kills per revision name, only revisions with kills.
	OOMKillsByRevision map[string]int `json:"oom_kills_by_revision,omitempty"`
	// OOMMaxUsedMiB is the largest "used" any kill reports, MiB.
	OOMMaxUsedMiB *float64 `json:"oom_max_used_mib,omitempty"`
	// MinutesSinceOOMKill is the age of the newest kill; absent without one.
	MinutesSinceOOMKill *int `json:"minutes_since_oom_kill,omitempty"`
}

// Verification is what runmedic did for this very incident and what came of it (incident.go).
type Verification struct {
	// MinutesBelowVerify is how long, ending at the newest point, memory has been below
	// verify_below: recovery when it reaches verify_after.
	MinutesBelowVerify int `json:"minutes_below_verify"`
	// RecoveredEarly is true when MinutesBelowVerify reaches verify_after on an open incident and
	// memory is not climbing again since a restart: the service recovered before the alert
	// arrived.
	RecoveredEarly bool `json:"recovered_early"`
	// AlreadyActed is true when a change for this incident landed and has not failed.
	AlreadyActed bool `json:"already_acted"`
	// VerificationFailed is true when a change for this incident failed verification, or its
	// verify_after window has passed with a memory point at or above verify_below since it.
	VerificationFailed bool `json:"verification_failed"`
}
