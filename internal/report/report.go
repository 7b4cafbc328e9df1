// Package report writes the post-incident write-up of one memory incident: from the alert to its
// resolution, every delivery and decision, the plans, the changes with their revisions, the
// verification, the messages sent to people and the evidence, with a chart of memory over the
// incident. It is pure: an Incident value in, markdown or one self-contained HTML file out.
package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/chart"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Incident is everything the write-up says. Timeline is sorted by Render; the other lists are
// shown in the order given.
type Incident struct {
	ID        string
	Service   string // projects/P/locations/L/services/S
	Policy    string // the alert policy
	Severity  string
	URL       string // the incident in the Cloud console
	StartedAt time.Time
	EndedAt   time.Time // zero while open
	Diagnosis string
	// Outcome says in one sentence how the incident ended, or where it stands.
	Outcome       string
	Timeline      []Entry
	Changes       []Change
	Verification  *Verification
	Notifications []Notification
	Evidence      []string
	Chart         chart.Chart
	// ChartFile, when set, is where the markdown links the chart (written beside it as SVG).
	ChartFile   string
	GeneratedAt time.Time
}

// Kind is what a timeline entry records; the set is closed.
type Kind string

// Kinds of timeline entries.
const (
	KindAlert        Kind = "alert"        // Monitoring opened the incident
	KindDelivery     Kind = "delivery"     // a notification (or a verify tick) reached runmedic
	KindDecision     Kind = "decision"     // the policies decided
	KindPlan         Kind = "plan"         // what the plan would change, and the guard's verdict
	KindChange       Kind = "change"       // runmedic changed the service
	KindVerification Kind = "verification" // the change was judged
	KindMessage      Kind = "message"      // people were told
	KindOOM          Kind = "oom"          // Cloud Run killed instances for memory
	KindClosed       Kind = "closed"       // Monitoring closed the incident
)

// Entry is one event of the timeline. Detail lines are shown under it (plan lines, evidence).
type Entry struct {
	At     time.Time
	Kind   Kind
	Text   string
	Detail []string
}

// Change is one change runmedic made for the incident.
type Change struct {
	At       time.Time
	Action   string // raise_memory, rollback, restart, …
	Fields   []Field
	Revision string           // the revision it created or routed to
	Outcome  snapshot.Outcome // applied (awaiting verification), verified, failed, reverted
}

// Field is one field a change moved.
type Field struct {
	Path, Before, After string
}

// String is the field as people read it: "template.memory 2Gi → 4Gi".
func (f Field) String() string { return f.Path + " " + f.Before + " → " + f.After }

// Verification is the check of the last change: due at Due, passed when memory stays below Below.
type Verification struct {
	Action   string
	Due      time.Time
	Below    float64 // verify_below, 0..1
	Baseline float64 // memory p99 just before the change, 0..1
	Outcome  string  // pending, verified, failed, reverted
}

// Notification is one message handed to a person's sink, or refused by it.
type Notification struct {
	At      time.Time
	To      string
	Sink    string // pagerduty, slack, chat, topic
	Step    string // page@5m, ack@raise_memory, change@raise_memory, resolve
	Outcome string // sent, refused, failed
	Error   string
}

// FieldsOf turns recorded changes into fields, rendering values as people read them.
func FieldsOf(changes []snapshot.Change) []Field {
	out := make([]Field, 0, len(changes))
	for _, c := range changes {
		out = append(out, Field{Path: c.Path, Before: value(c.Before), After: value(c.After)})
	}
	return out
}

// value renders a change value: a quantity as is, a traffic split as "rev 100%".
func value(v snapshot.Value) string {
	switch v.Kind() {
	case snapshot.KindNull:
		return "—"
	case snapshot.KindText, snapshot.KindNumber, snapshot.KindBool:
		return v.String()
	}
	if ts, err := v.Traffic(); err == nil {
		var parts []string
		for _, t := range ts {
			parts = append(parts, trafficPart(t.Type, t.Revision, t.Percent))
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func trafficPart(typ, rev string, pct int) string {
	if typ == snapshot.TrafficLatest || rev == "" {
		return fmt.Sprintf("latest %d%%", pct)
	}
	return fmt.Sprintf("%s %d%%", rev, pct)
}

// Marker is the chart label of a change: "2Gi→4Gi" for a memory raise, else the action.
func Marker(c Change) chart.Marker {
	var parts []string
	for _, f := range c.Fields {
		if f.Path == snapshot.PathMemory || f.Path == snapshot.PathCPU {
			parts = append(parts, f.Before+"→"+f.After)
		}
	}
	label := c.Action
	if len(parts) > 0 {
		label = strings.Join(parts, " ")
	}
	return chart.Marker{At: c.At, Label: label}
}

// timeline is the entries oldest first; entries at one instant keep their given order.
func (in Incident) timeline() []Entry {
	t := slices.Clone(in.Timeline)
	sort.SliceStable(t, func(i, j int) bool { return t[i].At.Before(t[j].At) })
	return t
}

// Name is the service's short name.
func (in Incident) Name() string { return in.Service[strings.LastIndex(in.Service, "/")+1:] }

// Duration says how long the incident lasted, or has lasted at GeneratedAt.
func (in Incident) Duration() string {
	end := in.EndedAt
	if end.IsZero() {
		end = in.GeneratedAt
	}
	if in.StartedAt.IsZero() || end.Before(in.StartedAt) {
		return ""
	}
	d := end.Sub(in.StartedAt).Round(time.Minute)
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd %02dh", int(d.Hours())/24, int(d.Hours())%24)
	}
	if d >= time.Hour {
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}

// clock formats an instant in UTC as the report shows it.
func clock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// short formats an instant as a timeline row shows it: the time of day, with the date when the
// report spans more than one day.
func (in Incident) short(t time.Time) string {
	if in.StartedAt.UTC().Format("20060102") != in.GeneratedAt.UTC().Format("20060102") && !in.StartedAt.IsZero() {
		return t.UTC().Format("Jan 2 15:04:05")
	}
	return t.UTC().Format("15:04:05")
}

func percent(v float64) string { return fmt.Sprintf("%.0f %%", v*100) }
