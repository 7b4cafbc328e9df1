package remediate_test

import (
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

func TestExplore(t *testing.T) {
	e := newEnv(t, "insufficient-memory", []byte("defaults:\n  revert_on_failed_verification: true\n"))
	ev, err := e.handle()
	t.Logf("t0 %s %s %v", ev.Step, ev.Outcome, err)
	for _, m := range []int{10, 15, 20, 30} {
		e.memoryUntil(e.t0.Add(time.Duration(m)*time.Minute), 0.93)
		e.at(time.Duration(m) * time.Minute)
		evs, err := e.r.Tick(e.ctx)
		for _, ev := range evs {
			t.Logf("t0+%d: %s %s %v changes=%v guard=%v", m, ev.Step, ev.Outcome, ev.Decision.Action, ev.Changes, ev.Guard)
		}
		t.Logf("t0+%d err=%v sent=%v mem=%s", m, err, e.notify.steps(), viewOf(e.service()).Memory)
	}
}

func TestExploreClosed(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	e.handle()
	e.memoryUntil(e.t0.Add(4*time.Minute), 0.9)
	e.at(4 * time.Minute)
	a := e.alert
	a.Incident.State = snapshot.StateClosed
	ev, err := e.r.Handle(e.ctx, a)
	t.Logf("closed: %s %s %v; pending %+v watching %+v", ev.Step, ev.Outcome, err, e.state().Pending, e.state().Watching)
	e.memoryUntil(e.t0.Add(11*time.Minute), 0.9)
	e.at(11 * time.Minute)
	evs, err := e.r.Tick(e.ctx)
	t.Logf("tick %d events %v; pending %+v", len(evs), err, e.state().Pending)
}
