package remediate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/freeze"
)

// snoozes is a fixed list of snoozes, or a failure to read them.
type snoozes struct {
	list []freeze.Snooze
	err  error
}

func (s snoozes) Active(context.Context, string, time.Time) ([]freeze.Snooze, error) {
	return s.list, s.err
}

// TestSnoozeHoldsEveryRun: a snooze on the alert policy holds the raise at the alert and at every
// verify tick after it (the tick remembers the incident's policy); unreadable snoozes hold too.
func TestSnoozeHoldsEveryRun(t *testing.T) {
	for name, reader := range map[string]snoozes{
		"active":     {list: []freeze.Snooze{{Name: "projects/p/snoozes/1", DisplayName: "deploy", Policies: []string{"alert-memory-high"}}}},
		"unreadable": {err: errors.New("permission denied")},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, "insufficient-memory", nil)
			if reader.list != nil {
				reader.list[0].Start, reader.list[0].End = e.t0.Add(-time.Hour), e.t0.Add(time.Hour)
			}
			e.r.Snoozes = reader
			ev, err := e.handle()
			if err != nil || ev.Applied || ev.Outcome != audit.Refused || ev.Guard.Refusals[0].Rule != "snooze" {
				t.Fatalf("alert: %s applied %v, %v, guard %+v; want refused by the snooze", ev.Outcome, ev.Applied, err, ev.Guard)
			}
			for _, tev := range e.tick(5*time.Minute, 0.93) {
				if tev.Applied {
					t.Errorf("tick applied %+v under the snooze", tev.Changes)
				}
			}
			if got := viewOf(e.service()).Memory; got != "2Gi" {
				t.Errorf("memory = %s, want 2Gi held", got)
			}
			e.r.Snoozes = snoozes{} // the snooze ends
			for _, tev := range e.tick(10*time.Minute, 0.93) {
				if tev.Outcome == audit.Refused {
					t.Errorf("tick after the snooze refused: %+v", tev.Guard)
				}
			}
			if got := viewOf(e.service()).Memory; got != "4Gi" {
				t.Errorf("memory after the snooze = %s, want the raise to 4Gi", got)
			}
		})
	}
}
