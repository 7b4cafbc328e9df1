package status

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

var now = time.Date(2026, 3, 14, 11, 0, 0, 0, time.UTC)

func TestCollectIsBoundedAndSorted(t *testing.T) {
	var targets []snapshot.Target
	for i := range 30 {
		targets = append(targets, snapshot.Target{Project: "p", Location: "l", Service: fmt.Sprintf("s%02d", 29-i)})
	}
	var inFlight, most atomic.Int32
	rows := Collect(context.Background(), targets, 4, func(_ context.Context, tg snapshot.Target) (Row, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		if tg.Service == "s07" {
			return Row{Mode: "enforce"}, errors.New("get service: PermissionDenied")
		}
		return Row{Service: tg.Name(), MemoryNow: 0.5}, nil
	})
	if m := most.Load(); m > 4 || m < 2 {
		t.Errorf("Collect ran %d reads at once, want at most 4 (and some in parallel)", m)
	}
	if len(rows) != 30 || rows[0].Name() != "s00" || rows[29].Name() != "s29" {
		t.Fatalf("Collect gave %d rows from %s to %s, want 30 sorted s00…s29", len(rows), rows[0].Name(), rows[len(rows)-1].Name())
	}
	if r := rows[7]; r.State() != "error" || r.Mode != "enforce" || r.MemoryNow != -1 || !strings.Contains(r.Error, "PermissionDenied") {
		t.Errorf("failed read row = %+v, want an error row keeping its mode", r)
	}
}

func TestStateWorstFirst(t *testing.T) {
	tests := []struct {
		row  Row
		want string
	}{
		{Row{}, "ok"},
		{Row{Threshold: 0.85, MemoryNow: 0.85}, "ok"},
		{Row{Threshold: 0.85, MemoryNow: 0.93}, "high"},
		{Row{Threshold: 0.85, MemoryNow: 0.93, Pin: &Pin{}}, "pinned"},
		{Row{Pin: &Pin{}}, "pinned"},
		{Row{Pin: &Pin{}, Watching: []Watch{{}}}, "watching"},
		{Row{Watching: []Watch{{}}, Pending: &Pending{}}, "verifying"},
		{Row{Pending: &Pending{}, Hold: "freeze"}, "held"},
		{Row{Hold: "freeze", Error: "x"}, "error"},
	}
	for _, tt := range tests {
		if got := tt.row.State(); got != tt.want {
			t.Errorf("State(%+v) = %q, want %q", tt.row, got, tt.want)
		}
	}
}

func TestDetails(t *testing.T) {
	r := Row{
		Pending: &Pending{Action: "restart", Due: now.Add(-7 * time.Minute)},
		Budget:  3, BudgetLeft: 0,
		Rollout: "revision s-00002-abc is not ready yet; s-00001-xyz serves",
	}
	want := []string{
		"verification of restart due 10:53 (overdue by 7m)",
		"rollout in progress: revision s-00002-abc is not ready yet; s-00001-xyz serves",
		"budget spent: 3 changes in the last 24 hours",
	}
	got := Details(r, now)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Details = %q, want %q", got, want)
	}
}

func TestTextWithoutData(t *testing.T) {
	got := Text([]Row{{Service: "projects/p/locations/l/services/s", MemoryNow: -1}}, now)
	if !strings.Contains(got, "1 managed service at") || !strings.Contains(got, "p/l") || !strings.Contains(got, "—") {
		t.Errorf("Text of a row without data:\n%s", got)
	}
	if strings.Contains(got, "-100%") {
		t.Errorf("unknown memory must show as —, got:\n%s", got)
	}
}
