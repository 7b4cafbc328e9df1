package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/monitoringtest"
)

// snoozes connects the world's function to a snooze fake holding the scenario's alert policy,
// through the deployed wiring (clients.Snoozes).
func (w *world) snoozes(t *testing.T) *monitoringtest.SnoozeServer {
	t.Helper()
	fake := monitoringtest.NewSnoozes(t)
	fake.AddPolicy("projects/aiprod-484120/alertPolicies/1187322", w.snap.Incident.Policy)
	r, err := clients.Snoozes(context.Background(), func(k string) string {
		return map[string]string{clients.EnvSnoozeEndpoint: fake.Addr()}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	w.route.handler.(*function.Handler).Remediator.Snoozes = r
	return fake
}

// TestSnoozeHoldsChange: a snooze on the alert policy holds the raise, and so does a snooze
// list that cannot be read; a snooze on another policy, or one that has ended, does not.
func TestSnoozeHoldsChange(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tc := range []struct {
		name     string
		setup    func(*monitoringtest.SnoozeServer)
		wantHeld string // "" applies the raise
	}{
		{"active snooze", func(f *monitoringtest.SnoozeServer) {
			f.AddSnooze(project, "deploy window", []string{"projects/aiprod-484120/alertPolicies/1187322"}, now.Add(-time.Hour), now.Add(time.Hour))
		}, `snooze "deploy window" covers alert policy`},
		{"unreadable", func(f *monitoringtest.SnoozeServer) { f.Fail(codes.PermissionDenied) }, "snoozes cannot be read"},
		{"other policy and ended", func(f *monitoringtest.SnoozeServer) {
			f.AddPolicy("projects/aiprod-484120/alertPolicies/7", "cpu-high")
			f.AddSnooze(project, "cpu", []string{"projects/aiprod-484120/alertPolicies/7"}, now.Add(-time.Hour), now.Add(time.Hour))
			f.AddSnooze(project, "over", []string{"projects/aiprod-484120/alertPolicies/1187322"}, now.Add(-2*time.Hour), now.Add(-time.Hour))
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, "insufficient-memory")
			tc.setup(w.snoozes(t))
			w.publish(w.incident)
			evs := w.auditEvents(func(evs []audit.Event) bool { return len(evs) > 0 })
			w.waitDeliveries(1)
			mem := memoryOf(w.run.Service(w.service()))
			if tc.wantHeld == "" {
				if mem != "4Gi" {
					t.Errorf("memory = %s, want the raise to 4Gi", mem)
				}
				return
			}
			if mem != "2Gi" {
				t.Errorf("memory = %s, want 2Gi held", mem)
			}
			if len(evs) != 1 || evs[0].Guard == nil || len(evs[0].Guard.Refusals) != 1 ||
				evs[0].Guard.Refusals[0].Rule != "snooze" || !strings.Contains(evs[0].Guard.Refusals[0].Message, tc.wantHeld) {
				t.Errorf("audit events = %+v, want one refused by the snooze rule saying %q", evs, tc.wantHeld)
			}
		})
	}
}
