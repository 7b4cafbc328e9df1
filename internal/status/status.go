// Package status shows the managed fleet at a glance: one row per service with its mode, memory
// now, what runmedic is watching, did and waits for, and whatever holds it back (a freeze, a
// snooze, a spent budget, a failing sink). Rows are values; Collect reads them in parallel,
// bounded, and the renderers are pure.
package status

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Row is one managed service as status shows it. Error is set, and the rest may be empty, when
// the service could not be read.
type Row struct {
	Service     string  `json:"service"` // projects/P/locations/L/services/S
	Mode        string  `json:"mode"`    // enforce, shadow
	MemoryLimit string  `json:"memory_limit,omitempty"`
	MemoryNow   float64 `json:"memory_now"`          // latest p99 utilization, 0..1; -1 without data
	Spark       string  `json:"sparkline,omitempty"` // unicode, the last three hours
	Threshold   float64 `json:"threshold,omitempty"`
	VerifyBelow float64 `json:"verify_below,omitempty"`
	// Memory is the series behind Spark, for the fleet page's charts; not part of the JSON.
	Memory     []snapshot.Point `json:"-"`
	Changes    []Change         `json:"-"` // changes in the charted window, for its markers
	Watching   []Watch          `json:"watching,omitempty"`
	LastAction *Action          `json:"last_action,omitempty"`
	Pending    *Pending         `json:"pending_verification,omitempty"`
	Rollout    string           `json:"rollout,omitempty"` // a rollout in progress, worded
	Pin        *Pin             `json:"pin,omitempty"`
	BudgetLeft int              `json:"budget_left_today"`
	Budget     int              `json:"budget_per_day"`
	Hold       string           `json:"hold,omitempty"` // an active freeze window, freeze mark or snooze
	Failing    []string         `json:"failing_sinks,omitempty"`
	Error      string           `json:"error,omitempty"`
}

// Watch is an open incident runmedic is watching.
type Watch struct {
	Incident  string    `json:"incident"`
	StartedAt time.Time `json:"started_at"`
	Severity  string    `json:"severity,omitempty"`
}

// Action is the last thing runmedic did to the service.
type Action struct {
	Incident string           `json:"incident"`
	Action   string           `json:"action"`
	At       time.Time        `json:"at"`
	Change   string           `json:"change,omitempty"` // "memory 2Gi→4Gi"
	Revision string           `json:"revision,omitempty"`
	Outcome  snapshot.Outcome `json:"outcome"` // applied, verified, failed, reverted
}

// Change is one change drawn on the fleet page's chart.
type Change struct {
	At    time.Time
	Label string
}

// Pending is a change awaiting its verification.
type Pending struct {
	Incident string    `json:"incident"`
	Action   string    `json:"action"`
	Due      time.Time `json:"due"`
}

// Pin is traffic runmedic pinned to one revision.
type Pin struct {
	Revision string    `json:"revision"`
	Since    time.Time `json:"since"`
	Incident string    `json:"incident"`
}

// State is the row's one-word state, worst first: error, held, verifying, watching, pinned,
// high (memory above the threshold with nothing of runmedic's under way: an alert is due or
// the service is not one runmedic may change), ok.
func (r Row) State() string {
	switch {
	case r.Error != "":
		return "error"
	case r.Hold != "":
		return "held"
	case r.Pending != nil:
		return "verifying"
	case len(r.Watching) > 0:
		return "watching"
	case r.Pin != nil:
		return "pinned"
	case r.Threshold > 0 && r.MemoryNow > r.Threshold:
		return "high"
	default:
		return "ok"
	}
}

// Name is the service's short name.
func (r Row) Name() string {
	for i := len(r.Service) - 1; i >= 0; i-- {
		if r.Service[i] == '/' {
			return r.Service[i+1:]
		}
	}
	return r.Service
}

// Limit is how many services Collect reads at once.
const Limit = 8

// Collect reads a row for every target with read, at most limit at a time (Limit when limit <= 0),
// and returns the rows sorted by service name. A read that fails gives a row with Error; one
// failing service never hides the others.
func Collect(ctx context.Context, targets []snapshot.Target, limit int, read func(context.Context, snapshot.Target) (Row, error)) []Row {
	if limit <= 0 {
		limit = Limit
	}
	rows := make([]Row, len(targets))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := read(ctx, t)
			if err != nil {
				r = Row{Service: t.Name(), Mode: r.Mode, MemoryNow: -1, Error: err.Error()}
			}
			if r.Service == "" {
				r.Service = t.Name()
			}
			rows[i] = r
		})
	}
	wg.Wait()
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Service < rows[j].Service })
	return rows
}
