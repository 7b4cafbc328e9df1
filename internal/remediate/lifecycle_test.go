package remediate_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite the README's lifecycle timeline")

// readme is the file whose "Lifecycle of an incident" section holds the timelines below.
const readme = "../../README.md"

// TestLifecycleTimeline runs two incidents through the remediator with the fakes and a moving
// clock, and checks the README's timelines are exactly what happened (`go test -update`
// rewrites them): one whose raise is verified, one whose raise does not help, so the runbook's
// escalation table runs, each step once despite duplicate ticks.
func TestLifecycleTimeline(t *testing.T) {
	var b strings.Builder
	b.WriteString("A raise that works (scenario insufficient-memory):\n\n```\n")
	e := newEnv(t, "insufficient-memory", nil)
	e.alert.Incident.StartedAt = e.t0
	tl := timeline{e: e, w: &b}
	tl.alert(0)
	tl.tick(5*time.Minute, 0.55)
	tl.tick(10*time.Minute, 0.55)
	tl.tick(11*time.Minute, 0.55)
	b.WriteString("```\n\nA raise that does not help, at the memory ceiling (`memory_ceiling: 4Gi`), with every tick delivered twice:\n\n```\n")
	e = newEnv(t, "insufficient-memory", []byte("defaults:\n  memory_ceiling: 4Gi\n"))
	e.alert.Incident.StartedAt = e.t0
	tl = timeline{e: e, w: &b}
	tl.alert(0)
	for _, m := range []int{5, 5, 10, 10, 15, 15, 20, 30, 30, 35} {
		tl.tick(time.Duration(m)*time.Minute, 0.93)
	}
	b.WriteString("```\n")

	got := b.String()
	doc, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- lifecycle:start -->\n", "<!-- lifecycle:end -->"
	i, j := bytes.Index(doc, []byte(start)), bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q markers", readme, start, end)
	}
	if *update {
		out := append(append(append([]byte{}, doc[:i+len(start)]...), got...), doc[j:]...)
		if err := os.WriteFile(readme, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if have := string(doc[i+len(start) : j]); have != got {
		t.Errorf("README timeline is stale; run go test ./internal/remediate -run Lifecycle -update\nhave:\n%s\nwant:\n%s", have, got)
	}
}

// timeline writes one line per audit event and notification, at its time from the start.
type timeline struct {
	e            *env
	w            *strings.Builder
	events, sent int
}

func (tl *timeline) alert(d time.Duration) {
	tl.e.at(d)
	if _, err := tl.e.handle(); err != nil {
		tl.e.t.Fatalf("alert at T+%s: %v", d, err)
	}
	tl.flush(d, "alert (open)")
}

func (tl *timeline) tick(d time.Duration, memory float64) {
	tl.e.tick(d, memory)
	tl.flush(d, fmt.Sprintf("verify tick, memory p99 %.0f%%", memory*100))
}

// flush writes what happened since the last call.
func (tl *timeline) flush(d time.Duration, what string) {
	evs, ns := tl.e.audit.Events(), tl.e.notify.Notifications()
	var lines []string
	for _, ev := range evs[tl.events:] {
		lines = append(lines, tl.relative(describeEvent(ev)))
	}
	for _, n := range ns[tl.sent:] {
		lines = append(lines, fmt.Sprintf("notify %s (step T+%s, %s)", n.To, n.After, n.Diagnosis))
	}
	tl.events, tl.sent = len(evs), len(ns)
	if len(lines) == 0 {
		lines = []string{"nothing to do"}
	}
	for k, l := range lines {
		at := fmt.Sprintf("T+%-4s %-28s", fmtMinutes(d), what)
		if k > 0 {
			at = strings.Repeat(" ", len(at))
		}
		fmt.Fprintf(tl.w, "%s → %s\n", at, l)
	}
}

// relative replaces the clock's times in s by their offset from the start, so the timeline
// reads the same on every run.
func (tl *timeline) relative(s string) string {
	for m := 0; m <= 60; m++ {
		at := tl.e.t0.Add(time.Duration(m) * time.Minute).Format(time.RFC3339)
		s = strings.ReplaceAll(s, "applied "+at, "applied at T+"+fmtMinutes(time.Duration(m)*time.Minute))
	}
	return s
}

func describeEvent(ev audit.Event) string {
	s := fmt.Sprintf("%s: %s", ev.Outcome, ev.Step)
	for _, c := range ev.Changes {
		if c.Path == snapshot.PathMemory {
			s += fmt.Sprintf(" %v -> %v", c.Before, c.After)
		}
	}
	if ev.Result != nil && ev.Result.Revision != "" {
		s += ", revision " + ev.Result.Revision
	}
	switch {
	case ev.Outcome == audit.Verified || ev.Outcome == audit.VerificationFailed:
		s += " (" + ev.Decision.Evidence[0] + ")"
	case !ev.Applied && ev.Decision != nil:
		s += ": " + ev.Decision.Reason
	}
	return s
}

func fmtMinutes(d time.Duration) string { return fmt.Sprintf("%dm", int(d.Minutes())) }
