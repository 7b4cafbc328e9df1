package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// clock is a settable time source shared by the handler and the remediator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// TestVerifyTick follows a memory raise through the verify tick Cloud Scheduler publishes on the
// alert topic: once verify_after has passed with memory below verify_below, the tick verifies
// the change and the audit trail says so.
func TestVerifyTick(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	start := time.Now().UTC()
	clk := &clock{t: start}
	h := w.route.handler.(*function.Handler)
	h.Now, h.Remediator.Now = clk.Now, clk.Now

	w.publish(w.incident)
	w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Applied) > 0 })
	w.checkOneAction(t, "raise_memory")

	// After the raise, memory sits at 45 % for the whole verification window.
	mem := append([]snapshot.Point(nil), w.snap.Metrics.MemoryUtilization...)
	for m := 1; m <= 11; m++ {
		mem = append(mem, snapshot.Point{At: start.Truncate(time.Minute).Add(time.Duration(m) * time.Minute), Value: 0.45})
	}
	w.mon.SetSeries(monitoring.MetricMemory, w.snap.Target, mem, nil)
	clk.Set(start.Add(11 * time.Minute))

	if _, err := emu.Publish(context.Background(), w.alertTopic, []byte("{}"), map[string]string{function.KindAttribute: function.KindVerifyTick}); err != nil {
		t.Fatal(err)
	}
	evs := w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Verified) > 0 })
	if count(evs, audit.Verified) != 1 {
		t.Fatalf("audit events after the tick = %v, want one verified", outcomes(evs))
	}
	// The audit event goes out before the delivery records the verdict in the ledger: wait for
	// the record, bounded.
	verified := func(st state.State) bool {
		return len(st.Actions) == 1 && st.Actions[0].Outcome == state.OutcomeVerified && st.Pending == nil && len(st.Watching) == 0
	}
	var st state.State
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		if st, err = w.state(); err != nil {
			t.Fatal(err)
		}
		if verified(st) || time.Now().After(deadline) {
			break
		}
	}
	if !verified(st) {
		t.Errorf("state after the tick: actions %+v, pending %v, watching %v; want the raise verified and nothing pending or watched",
			st.Actions, st.Pending, st.Watching)
	}
	if got := memoryOf(w.run.Service(w.service())); got != "4Gi" {
		t.Errorf("memory after the tick = %q, want 4Gi: a verified change stays", got)
	}
}
