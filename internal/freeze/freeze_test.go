package freeze_test

import (
	"strings"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/freeze"
)

func TestWindow(t *testing.T) {
	weekend := config.FreezeWindow{Name: "weekend", Weekdays: []string{"sat", "sun"}, From: "00:00", To: "24:00", TZ: "Europe/Berlin"}
	nights := config.FreezeWindow{Name: "nights", Weekdays: []string{"fri"}, From: "22:00", To: "06:00", TZ: "America/New_York"}
	yearEnd := config.FreezeWindow{Name: "year-end", Start: "2026-12-24", End: "2026-12-26"}
	for _, tc := range []struct {
		windows []config.FreezeWindow
		at      string
		want    string // substring of the reason; "" for none
	}{
		{[]config.FreezeWindow{weekend}, "2026-03-07T12:00:00Z", "weekend"}, // Saturday
		{[]config.FreezeWindow{weekend}, "2026-03-06T23:30:00Z", "weekend"}, // Friday 23:30 UTC is Saturday in Berlin
		{[]config.FreezeWindow{weekend}, "2026-03-06T22:30:00Z", ""},        // Friday 23:30 in Berlin
		{[]config.FreezeWindow{nights}, "2026-03-07T04:00:00Z", "nights"},   // Friday 23:00 in New York
		{[]config.FreezeWindow{nights}, "2026-03-07T10:00:00Z", "nights"},   // Saturday 05:00: Friday's night
		{[]config.FreezeWindow{nights}, "2026-03-07T11:00:00Z", ""},         // Saturday 06:00: over
		{[]config.FreezeWindow{nights}, "2026-03-04T04:00:00Z", ""},         // Tuesday 23:00: Fridays only
		{[]config.FreezeWindow{yearEnd}, "2026-12-24T00:00:00Z", "year-end"},
		{[]config.FreezeWindow{yearEnd}, "2026-12-26T23:59:00Z", "year-end"}, // the end is inclusive
		{[]config.FreezeWindow{yearEnd}, "2026-12-27T00:00:00Z", ""},
		{[]config.FreezeWindow{yearEnd}, "2026-12-23T23:59:00Z", ""},
		{[]config.FreezeWindow{nights, weekend}, "2026-03-07T05:00:00Z", "nights"}, // the first in force is named
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		got := freeze.Window(tc.windows, at)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("Window(%s) = %q, want %q", tc.at, got, tc.want)
		}
	}
}
func TestMarked(t *testing.T) {
	if !freeze.Marked(map[string]string{"runmedic_io_freeze": "true"}, nil) || !freeze.Marked(nil, map[string]string{freeze.Key: "True"}) {
		t.Error("a label or annotation set to true does not freeze")
	}
	if freeze.Marked(map[string]string{"runmedic_io_freeze": "false"}, map[string]string{"other": "true"}) {
		t.Error("false freezes")
	}
}

func TestSnoozed(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := []freeze.Snooze{
		{Name: "projects/p/snoozes/1", DisplayName: "over", Policies: []string{"projects/p/alertPolicies/42"}, Start: now.Add(-3 * time.Hour), End: now.Add(-time.Hour)},
		{Name: "projects/p/snoozes/2", DisplayName: "other policy", Policies: []string{"projects/p/alertPolicies/7"}, Start: now.Add(-time.Hour), End: now.Add(time.Hour)},
		{Name: "projects/p/snoozes/3", DisplayName: "deploy", Policies: []string{"projects/p/alertPolicies/42"}, Start: now.Add(-time.Hour), End: now.Add(time.Hour)},
	}
	if got := freeze.Snoozed(s, "projects/p/alertPolicies/42", now); !strings.Contains(got, `"deploy"`) {
		t.Errorf("Snoozed = %q, want the deploy snooze", got)
	}
	if got := freeze.Snoozed(s, "42", now); !strings.Contains(got, `"deploy"`) {
		t.Errorf("Snoozed(id only) = %q, want the deploy snooze", got)
	}
	if got := freeze.Snoozed(s, "projects/p/alertPolicies/9", now); got != "" {
		t.Errorf("Snoozed(uncovered policy) = %q, want none", got)
	}
}
