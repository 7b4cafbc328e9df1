package snooze_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/freeze"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/snooze"
)

func TestActive(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	fake := monitoringtest.NewSnoozes(t)
	fake.AddPolicy("projects/p/alertPolicies/1", "alert-memory-high")
	fake.AddSnooze("p", "ended", []string{"projects/p/alertPolicies/1"}, now.Add(-2*time.Hour), now.Add(-time.Hour))
	fake.AddSnooze("p", "deploy", []string{"projects/p/alertPolicies/1"}, now.Add(-time.Hour), now.Add(time.Hour))
	fake.AddSnooze("q", "other project", []string{"projects/q/alertPolicies/9"}, now.Add(-time.Hour), now.Add(time.Hour))
	r, err := snooze.New(ctx, cloudrun.EndpointOptions(fake.Addr())...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Active(ctx, "p", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].DisplayName != "deploy" || !got[0].End.Equal(now.Add(time.Hour)) {
		t.Fatalf("Active() = %+v, want the deploy snooze only", got)
	}
	if msg := freeze.Snoozed(got, "alert-memory-high", now); !strings.Contains(msg, `"deploy"`) {
		t.Errorf("Snoozed(display name) = %q, want the deploy snooze", msg)
	}

	fake.AddSnooze("p", "dangling", []string{"projects/p/alertPolicies/404"}, now, now.Add(time.Hour))
	if _, err := r.Active(ctx, "p", now); err == nil || !strings.Contains(err.Error(), "alertPolicies/404") {
		t.Errorf("Active() with a deleted policy = %v, want an error naming it", err)
	}
	fake.Fail(codes.PermissionDenied)
	if _, err := r.Active(ctx, "p", now); err == nil || !strings.Contains(err.Error(), "PermissionDenied") {
		t.Errorf("Active() denied = %v, want the denial", err)
	}
}
