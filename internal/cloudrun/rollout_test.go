package cloudrun_test

import (
	"context"
	"errors"
	"testing"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestStartThenRollout: Start returns as soon as Cloud Run accepts the update; Rollout reports
// it in progress until the operation is done, then the new revision, Ready.
func TestStartThenRollout(t *testing.T) {
	srv, c := start(t, fixture())
	srv.SetOperationPolls(2)
	ctx := context.Background()
	res, err := c.Start(ctx, target, `"e12"`, []snapshot.Change{{Path: snapshot.PathMemory, After: snapshot.TextValue("4Gi")}}, map[string]string{cloudrun.ClaimAnnotation: "c1"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if res.Operation == "" || res.Ready {
		t.Fatalf("Start = %+v, want an operation, not Ready", res)
	}
	if srv.UpdateCount(target.Name()) != 1 {
		t.Fatalf("UpdateCount %d, want 1", srv.UpdateCount(target.Name()))
	}
	polls := 0
	for {
		got, done, err := c.Rollout(ctx, target, res.Operation, res.Revision)
		polls++
		if err != nil {
			t.Fatalf("Rollout poll %d: %v", polls, err)
		}
		if !done {
			if polls > 5 {
				t.Fatal("rollout never done")
			}
			continue
		}
		if polls < 2 || !got.Ready || got.Revision == "" || got.Revision == res.Revision || got.Service.Template.Memory != "4Gi" {
			t.Fatalf("after %d polls: %+v, want done after 2 polls with a new Ready revision at 4Gi", polls, got)
		}
		break
	}
	if obs, err := c.Observe(ctx, target); err != nil || obs.Claim != "c1" {
		t.Errorf("claim marker on the service = %q, %v; want c1", obs.Claim, err)
	}
}

// TestRolloutOfFailedRevision: a revision that never becomes Ready is reported done, as a
// RevisionNotReadyError naming it.
func TestRolloutOfFailedRevision(t *testing.T) {
	srv, c := start(t, fixture())
	srv.SetRevisionReadyFailure(target.Name())
	ctx := context.Background()
	res, err := c.Start(ctx, target, `"e12"`, []snapshot.Change{{Path: snapshot.PathMemory, After: snapshot.TextValue("4Gi")}}, nil)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	got, done, err := c.Rollout(ctx, target, res.Operation, res.Revision)
	if !done || !errors.Is(err, cloudrun.ErrRevisionNotReady) || got.Ready || got.Revision == "" {
		t.Fatalf("Rollout = %+v, done %t, %v; want done, the new revision not Ready", got, done, err)
	}
}
