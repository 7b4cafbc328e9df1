package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/chart"
	"github.com/runmedic/runmedic/internal/report"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// margin is how much memory is charted before an incident starts and after it ends.
const margin = time.Hour

// MaxChart bounds the charted window: a longer incident shows its last day, one point a minute
// as Monitoring keeps it.
const MaxChart = 24 * time.Hour

// ErrNoRecord is returned by Incident when neither runmedic's record of the service nor the
// audit events mention the incident.
var ErrNoRecord = fmt.Errorf("no record of the incident")

// Has reports whether runmedic's record of target mentions incident.
func (r Reader) Has(ctx context.Context, target snapshot.Target, incident string) (bool, error) {
	_, rec, err := r.observe(ctx, target)
	if err != nil {
		return false, err
	}
	return mentions(rec, incident), nil
}

func mentions(rec Record, id string) bool {
	return slices.ContainsFunc(rec.Actions, func(a snapshot.Action) bool { return a.Incident == id }) ||
		slices.ContainsFunc(rec.Watching, func(w Watch) bool { return w.Incident == id }) ||
		slices.ContainsFunc(rec.Sent, func(s Sent) bool { return s.Incident == id }) ||
		(rec.Pending != nil && rec.Pending.Incident == id) || (rec.Pin != nil && rec.Pin.Incident == id)
}

// Incident assembles the write-up of incident id on target at now from runmedic's record, the
// audit events of the incident (events; any others are ignored) and memory and OOM kills read
// live over the incident plus an hour either side.
func (r Reader) Incident(ctx context.Context, target snapshot.Target, id string, events []audit.Event, now time.Time) (report.Incident, error) {
	obs, rec, err := r.observe(ctx, target)
	if err != nil {
		return report.Incident{}, err
	}
	events = slices.DeleteFunc(slices.Clone(events), func(e audit.Event) bool {
		return e.Incident != id || (e.Target != "" && e.Target != target.Name())
	})
	slices.SortStableFunc(events, func(a, b audit.Event) int { return a.Time.Compare(b.Time) })
	if !mentions(rec, id) && len(events) == 0 {
		return report.Incident{}, fmt.Errorf("incident %s on %s: %w", id, target.Name(), ErrNoRecord)
	}
	in := report.Incident{ID: id, Service: target.Name(), GeneratedAt: now}
	for _, w := range rec.Watching {
		if w.Incident == id {
			in.StartedAt, in.Severity, in.URL, in.Policy = w.StartedAt, w.Severity, w.URL, w.Policy
		}
	}
	var actions []snapshot.Action
	for _, a := range slices.Backward(rec.Actions) {
		if a.Incident == id {
			actions = append(actions, a)
		}
	}
	// Without a watch, the earliest trace of the incident stands for its start.
	if in.StartedAt.IsZero() {
		in.StartedAt = earliest(actions, events, rec.Sent, id)
	}
	for _, e := range events {
		if e.IncidentState == snapshot.StateClosed && in.EndedAt.IsZero() {
			in.EndedAt = e.Time
		}
	}
	if !in.StartedAt.IsZero() {
		in.Timeline = append(in.Timeline, report.Entry{At: in.StartedAt, Kind: report.KindAlert,
			Text: strings.TrimSpace("Monitoring opened the incident " + paren(in.Severity))})
	}
	fromEvents := r.eventEntries(&in, events)
	r.actionEntries(&in, rec, actions, fromEvents)
	for _, s := range slices.Backward(rec.Sent) {
		if s.Incident != id {
			continue
		}
		n := report.Notification{At: s.At, To: s.To, Sink: s.Sink, Step: s.Step, Outcome: audit.DeliverySent}
		if s.Refused != "" {
			n.Outcome, n.Error = audit.DeliveryRefused, s.Refused
		}
		in.Notifications = append(in.Notifications, n)
		text := fmt.Sprintf("%s to %s by %s: %s", s.Step, s.To, s.Sink, n.Outcome)
		if n.Error != "" {
			text += " (" + n.Error + ")"
		}
		in.Timeline = append(in.Timeline, report.Entry{At: s.At, Kind: report.KindMessage, Text: text})
	}
	slices.SortStableFunc(in.Notifications, func(a, b report.Notification) int { return a.At.Compare(b.At) })
	if !in.EndedAt.IsZero() {
		in.Timeline = append(in.Timeline, report.Entry{At: in.EndedAt, Kind: report.KindClosed, Text: "Monitoring closed the incident"})
	}

	from, to := in.StartedAt.Add(-margin), now
	if !in.EndedAt.IsZero() && in.EndedAt.Add(margin).Before(now) {
		to = in.EndedAt.Add(margin)
	}
	if in.StartedAt.IsZero() || !to.After(from) {
		from = to.Add(-Window)
	}
	from = later(from, to.Add(-MaxChart))
	in.Chart = chart.Chart{Title: fmt.Sprintf("%s · memory p99 over incident %s", target.Service, id),
		Threshold: r.threshold(target), VerifyBelow: r.Config.Defaults.VerifyBelow, From: from, To: to, Opened: in.StartedAt, Closed: in.EndedAt}
	if mem, err := r.Metrics.Memory(ctx, target, to, to.Sub(from)); err == nil {
		in.Chart.Memory = mem
	} else {
		in.Evidence = append(in.Evidence, "memory could not be read for the chart: "+err.Error())
	}
	for _, c := range in.Changes {
		in.Chart.Changes = append(in.Chart.Changes, report.Marker(c))
	}
	if r.Logs != nil {
		l := r.Logs.OOMKills(ctx, target, to, to.Sub(from))
		in.Chart.Kills = chart.KillMarkers(&l)
		in.Evidence = append(in.Evidence, oomEvidence(l)...)
		for _, k := range l.OOMKills {
			in.Timeline = append(in.Timeline, report.Entry{At: k.Last, Kind: report.KindOOM, Text: fmt.Sprintf(
				"%d OOM kill%s on %s between %s and %s (largest %.0f MiB used of %.0f MiB)", k.Count, plural(k.Count),
				k.Revision, k.First.UTC().Format("15:04"), k.Last.UTC().Format("15:04"), k.MaxUsedMiB, k.LimitMiB)})
		}
	}
	in.Outcome = outcome(in, obs.Service.Template.Memory)
	return in, nil
}

// eventEntries adds what the audit events tell: each delivery, decision, plan and change, and
// the messages that failed (sent and refused ones are in runmedic's record). It reports the
// actions whose change an event recorded, so the record does not repeat them.
func (r Reader) eventEntries(in *report.Incident, events []audit.Event) map[string]bool {
	applied := map[string]bool{}
	for i, e := range events {
		in.Timeline = append(in.Timeline, report.Entry{At: e.Time, Kind: report.KindDelivery,
			Text: fmt.Sprintf("Delivery %d (%s, incident %s): %s", i+1, orDash(e.Step), orDash(e.IncidentState), e.Outcome)})
		if d := e.Decision; d != nil {
			in.Diagnosis = string(d.Diagnosis)
			in.Timeline = append(in.Timeline, report.Entry{At: e.Time, Kind: report.KindDecision,
				Text: fmt.Sprintf("%s (%s): %s", d.Action, d.Diagnosis, d.Reason), Detail: d.Evidence})
			if len(d.Evidence) > 0 {
				in.Evidence = slices.Clone(d.Evidence)
			}
		}
		if len(e.Changes) > 0 || e.Guard != nil {
			var lines []string
			for _, f := range report.FieldsOf(e.Changes) {
				lines = append(lines, f.String())
			}
			text := "no change"
			if len(lines) > 0 {
				text = strings.Join(lines, "; ")
			}
			if g := e.Guard; g != nil {
				verdict := "allows"
				if !g.Allowed {
					verdict = "refuses"
				}
				text += fmt.Sprintf("; guard %s (%s)", verdict, g.Mode)
				var why []string
				for _, f := range g.Refusals {
					why = append(why, f.Rule+": "+f.Message)
				}
				in.Timeline = append(in.Timeline, report.Entry{At: e.Time, Kind: report.KindPlan, Text: text, Detail: why})
			} else {
				in.Timeline = append(in.Timeline, report.Entry{At: e.Time, Kind: report.KindPlan, Text: text})
			}
		}
		if e.Applied && e.Decision != nil {
			text := fmt.Sprintf("%s applied", e.Decision.Action)
			if res := e.Result; res != nil && res.Revision != "" {
				text += ", revision " + res.Revision
				if res.Ready {
					text += " ready"
				}
			}
			in.Timeline = append(in.Timeline, report.Entry{At: e.Time, Kind: report.KindChange, Text: text})
			applied[string(e.Decision.Action)] = true
		}
		if e.Outcome == audit.Verified || e.Outcome == audit.VerificationFailed {
			applied["verify"] = true
			in.Timeline = append(in.Timeline, report.Entry{At: e.Time, Kind: report.KindVerification, Text: "verification: " + string(e.Outcome)})
		}
		for _, d := range e.Deliveries {
			if d.Outcome == audit.DeliveryFailed {
				in.Notifications = append(in.Notifications, report.Notification{At: e.Time, To: d.To, Sink: d.Sink, Step: d.Step, Outcome: d.Outcome, Error: d.Error})
			}
		}
	}
	return applied
}

// actionEntries adds the changes runmedic recorded for the incident and their verification.
func (r Reader) actionEntries(in *report.Incident, rec Record, actions []snapshot.Action, fromEvents map[string]bool) {
	verifyAfter := r.Config.Defaults.VerifyAfter.Duration
	for _, a := range actions {
		if !a.Changed() {
			if !fromEvents[a.Action] {
				in.Timeline = append(in.Timeline, report.Entry{At: a.At, Kind: report.KindDecision, Text: a.Action + ": changed nothing"})
			}
			continue
		}
		c := report.Change{At: a.At, Action: a.Action, Fields: report.FieldsOf(a.Changes), Revision: a.Revision, Outcome: a.Outcome}
		in.Changes = append(in.Changes, c)
		if !fromEvents[a.Action] {
			text := fmt.Sprintf("%s applied: %s", a.Action, changeText(a))
			if a.Revision != "" {
				text += ", revision " + a.Revision
			}
			in.Timeline = append(in.Timeline, report.Entry{At: a.At, Kind: report.KindChange, Text: text})
		}
		v := &report.Verification{Action: a.Action, Due: a.At.Add(verifyAfter), Below: r.Config.Defaults.VerifyBelow, Outcome: string(a.Outcome)}
		if p := rec.Pending; p != nil && p.Incident == in.ID && p.Action == a.Action {
			v.Due, v.Baseline, v.Outcome = p.VerifyAt, p.Baseline, "pending"
		} else if a.Outcome != state.OutcomeApplied && !fromEvents["verify"] {
			in.Timeline = append(in.Timeline, report.Entry{At: v.Due, Kind: report.KindVerification, Text: fmt.Sprintf("%s judged %s", a.Action, a.Outcome)})
		}
		in.Verification = v
	}
}

// outcome is the write-up's one-sentence summary.
func outcome(in report.Incident, limitNow string) string {
	var s string
	switch n := len(in.Changes); {
	case n == 0:
		s = "runmedic changed nothing"
	default:
		c := in.Changes[n-1]
		s = fmt.Sprintf("runmedic applied %s (%s)", c.Action, report.Marker(c).Label)
		if c.Revision != "" {
			s += ", revision " + c.Revision
		}
	}
	if v := in.Verification; v != nil {
		switch v.Outcome {
		case "pending":
			s += fmt.Sprintf(", verification due %s UTC", v.Due.UTC().Format("15:04"))
		default:
			s += ", " + v.Outcome
		}
	}
	if in.EndedAt.IsZero() {
		s += "; the incident is still open"
	} else {
		s += "; the incident closed after " + in.Duration()
	}
	if limitNow != "" {
		s += "; the memory limit is now " + limitNow
	}
	return s + "."
}

func oomEvidence(l snapshot.Logs) []string {
	if !l.Available {
		return []string{"OOM kills unknown: logs unreadable (" + l.Error + ")"}
	}
	if len(l.OOMKills) == 0 {
		return []string{"no OOM kill logged over the charted window"}
	}
	var out []string
	for _, k := range l.OOMKills {
		out = append(out, fmt.Sprintf("%d OOM kill%s on %s, largest %.0f MiB used of a %.0f MiB limit", k.Count, plural(k.Count), k.Revision, k.MaxUsedMiB, k.LimitMiB))
	}
	if l.Truncated {
		out = append(out, "the log read hit its bound; there may be more kills")
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earliest is the first time anything mentions incident id.
func earliest(actions []snapshot.Action, events []audit.Event, sent []Sent, id string) time.Time {
	var t time.Time
	see := func(at time.Time) {
		if !at.IsZero() && (t.IsZero() || at.Before(t)) {
			t = at
		}
	}
	for _, a := range actions {
		see(a.At)
	}
	for _, e := range events {
		see(e.Time)
	}
	for _, s := range sent {
		if s.Incident == id {
			see(s.At)
		}
	}
	return t
}

// ReadAudit reads audit events as the audit topic carries them, exported as JSON lines (one
// event a line) or one JSON array. name is used in errors, which say the line.
func ReadAudit(r io.Reader, name string) ([]audit.Event, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		var evs []audit.Event
		if err := json.Unmarshal(t, &evs); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return evs, nil
	}
	var evs []audit.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e audit.Event
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		evs = append(evs, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return evs, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
