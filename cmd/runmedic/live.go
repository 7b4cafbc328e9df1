package main

import (
	"context"
	"errors"

	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// liveSnapshot observes the incident's service (or service, when given) through the Cloud Run
// and Monitoring APIs.
func liveSnapshot(ctx context.Context, e env, sc scenario.Scenario, service string) (snapshot.Snapshot, error) {
	return snapshot.Snapshot{}, errors.New("--live is not available yet")
}
