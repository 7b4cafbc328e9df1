package replay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Event is the part of an audit event (see package audit) that shadow scoring reads. Unknown
// keys are ignored, so the audit trail can grow without breaking the scorer.
type Event struct {
	Time          time.Time         `json:"time"`
	Incident      string            `json:"incident"`
	IncidentState string            `json:"incident_state"`
	Target        string            `json:"target"`
	Decision      *EventDecision    `json:"decision"`
	Changes       []snapshot.Change `json:"changes"`
	Guard         *EventGuard       `json:"guard"`
	Applied       bool              `json:"applied"`
	Outcome       snapshot.Outcome  `json:"outcome"`
}

// EventDecision is the decision of an audit event, as far as scoring needs it.
type EventDecision struct {
	Action    string `json:"action"`
	Diagnosis string `json:"diagnosis"`
}

// EventGuard is the guard verdict of an audit event, as far as scoring needs it.
type EventGuard struct {
	Allowed bool   `json:"allowed"`
	Mode    string `json:"mode"`
}

// ReadHistory reads audit events: JSON lines (one event a line, blank lines skipped) or one JSON
// array of events. name is used in errors, which say the line.
func ReadHistory(r io.Reader, name string) ([]Event, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		var evs []Event
		if err := json.Unmarshal(trimmed, &evs); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return evs, nil
	}
	var evs []Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var ev Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		evs = append(evs, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return evs, nil
}

// Next is what happened to an incident after runmedic decided on it in shadow mode.
type Next string

// The ways a shadow decision can be judged.
const (
	ClosedByItself    Next = "closed_by_itself"    // closed within the window, nothing applied
	ClosedLate        Next = "closed_late"         // closed without a change, after the window
	ClosedAfterChange Next = "closed_after_change" // someone or something changed the service first
	Escalated         Next = "escalated"           // people were paged
	Unresolved        Next = "unresolved"          // still open at the end of the history
)

// Score is one shadow decision and what happened next.
type Score struct {
	Target    string        `json:"target"`
	Incident  string        `json:"incident"`
	DecidedAt time.Time     `json:"decided_at"`
	Action    string        `json:"action"`
	Diagnosis string        `json:"diagnosis"`
	Change    string        `json:"change"`
	Next      Next          `json:"next"`
	After     time.Duration `json:"after_ns"` // from the decision to what happened; 0 if unresolved
}

// Verdict is the one-line judgement: "closed by itself after 4m".
func (s Score) Verdict() string {
	d := s.After.Round(time.Minute)
	switch s.Next {
	case ClosedByItself:
		return fmt.Sprintf("closed by itself after %s", minutes(d))
	case ClosedLate:
		return fmt.Sprintf("closed after %s, later than the window", minutes(d))
	case ClosedAfterChange:
		return fmt.Sprintf("closed after a change was applied, %s later", minutes(d))
	case Escalated:
		return fmt.Sprintf("escalated after %s", minutes(d))
	}
	return "unresolved at the end of the history"
}

// ScoreShadow judges every incident whose first open event was decided in shadow mode with
// changes: within is how soon a close counts as "by itself". Events are grouped by (target,
// incident) and read in time order; the first close or escalation after the decision settles it.
// The result is in the order of the decisions.
func ScoreShadow(events []Event, within time.Duration) []Score {
	type key struct{ target, incident string }
	groups := map[key][]Event{}
	var order []key
	for _, ev := range events {
		k := key{ev.Target, ev.Incident}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], ev)
	}
	scores := []Score{}
	for _, k := range order {
		evs := groups[k]
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
		if s, ok := scoreIncident(evs, within); ok {
			scores = append(scores, s)
		}
	}
	sort.SliceStable(scores, func(i, j int) bool { return scores[i].DecidedAt.Before(scores[j].DecidedAt) })
	return scores
}

func scoreIncident(evs []Event, within time.Duration) (Score, bool) {
	first := -1
	for i, ev := range evs {
		if ev.IncidentState != "closed" {
			first = i
			break
		}
	}
	if first < 0 {
		return Score{}, false
	}
	d := evs[first]
	if d.Guard == nil || d.Guard.Mode != config.ModeShadow || d.Decision == nil || len(d.Changes) == 0 {
		return Score{}, false
	}
	s := Score{Target: d.Target, Incident: d.Incident, DecidedAt: d.Time,
		Action: d.Decision.Action, Diagnosis: d.Decision.Diagnosis, Change: Summarize(d.Changes), Next: Unresolved}
	applied := false
	for _, ev := range evs[first+1:] {
		applied = applied || ev.Applied
		switch {
		case ev.Outcome == snapshot.OutcomeEscalated || (ev.Decision != nil && ev.Decision.Action == "escalate"):
			s.Next, s.After = Escalated, ev.Time.Sub(d.Time)
			return s, true
		case ev.IncidentState == "closed":
			s.After = ev.Time.Sub(d.Time)
			switch {
			case applied:
				s.Next = ClosedAfterChange
			case s.After <= within:
				s.Next = ClosedByItself
			default:
				s.Next = ClosedLate
			}
			return s, true
		}
	}
	return s, true
}

func minutes(d time.Duration) string {
	if d < time.Minute {
		return "<1m"
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}

// ScoreSummary counts the verdicts: "4 shadow decisions: 2 closed by itself within 30m, ...".
func ScoreSummary(scores []Score, within time.Duration) string {
	n := map[Next]int{}
	for _, s := range scores {
		n[s.Next]++
	}
	return fmt.Sprintf("%s: %d closed by itself within %s, %d closed later, %d closed after a change, %d escalated, %d unresolved",
		plural(len(scores), "shadow decision"), n[ClosedByItself], minutes(within), n[ClosedLate], n[ClosedAfterChange], n[Escalated], n[Unresolved])
}

// WriteScores writes the shadow scoring table and its summary in format f.
func WriteScores(w io.Writer, scores []Score, within time.Duration, f Format) error {
	if f == JSON {
		return writeJSON(w, struct {
			Decisions []Score `json:"decisions"`
			Summary   string  `json:"summary"`
		}{append([]Score{}, scores...), ScoreSummary(scores, within)})
	}
	// The text table names the service only (the project and region are in -o json and csv), so
	// what runmedic would have done has the room.
	target := func(s Score) string { return s.Target }
	if f == Text {
		target = func(s Score) string { return s.Target[strings.LastIndex(s.Target, "/")+1:] }
	}
	t := table{header: []string{"decided_at", "service", "incident", "would_do", "next"}, footer: ScoreSummary(scores, within)}
	if f != Text {
		t.header[1] = "target"
	}
	for _, s := range scores {
		would := s.Action
		if s.Change != "" {
			would += ": " + s.Change
		}
		t.rows = append(t.rows, []string{s.DecidedAt.UTC().Format(time.RFC3339), target(s), s.Incident, would, s.Verdict()})
	}
	return t.write(w, f)
}
