package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/quantity"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// ladderConditions word the runbook's escalation table, row by row; rows past the table reuse the
// last wording.
var ladderConditions = []string{
	"page if not recovering",
	"notify if the issue persists",
	"notify if not resolved",
}

// notifications schedules who hears about the incident, timed from its start. The rules:
//   - a closed incident, or one that recovered before the alert arrived, pages nobody (the record
//     says so);
//   - params.notify targets are told at once (T+0), and their own rows of the table are left
//     out: the runbook pages each person once;
//   - every open incident carries the runbook's escalation ladder. After an escalate decision, and
//     after a remedy for a leak (decision.LadderUnconditional), the steps are unconditional; after
//     any other decision they are conditional ("page if not recovering"), and whoever sends them
//     checks the condition when the time comes.
//
// The result is ordered by time, never nil.
func notifications(s snapshot.Snapshot, sig signals.Signals, d decision.Decision, cfg config.Defaults) []Notification {
	return ladder(s, sig, d, cfg, "")
}

// Hold rewords p's notifications once a freeze or a snooze (rule) held its changes: nothing was
// changed, so every step of the ladder goes out on time, as after an escalation, and says why.
func Hold(p Plan, s snapshot.Snapshot, sig signals.Signals, cfg config.Defaults, rule string) Plan {
	p.Notifications = ladder(s, sig, p.Decision, cfg, rule)
	return p
}

// ladder is notifications, with every step of the table unconditional when held names the rule
// that held the changes.
func ladder(s snapshot.Snapshot, sig signals.Signals, d decision.Decision, cfg config.Defaults, held string) []Notification {
	out := []Notification{}
	if s.Incident.State == snapshot.StateClosed || d.PagesNobody() {
		return out
	}
	facts := describe(s, sig, d)
	type timed struct {
		after time.Duration
		n     Notification
	}
	var all []timed
	for _, to := range d.Params.Notify {
		reason := fmt.Sprintf("%s decided %s: %s", policyName(d), d.Action, facts)
		all = append(all, timed{0, Notification{To: to, After: FormatDuration(0), Reason: reason}})
	}
	for i, step := range cfg.Escalation {
		if step.Notify == "" || slices.Contains(d.Params.Notify, step.Notify) {
			continue // told at once already: the runbook pages each person once
		}
		var reason string
		switch {
		case held != "":
			reason = fmt.Sprintf("%s held by the %s: %s", d.Action, held, facts)
		case d.Action == decision.Escalate:
			reason = "escalated: " + facts
		case d.LadderUnconditional():
			reason = fmt.Sprintf("escalated for the code fix after %s: %s", d.Action, facts)
		default:
			cond := ladderConditions[min(i, len(ladderConditions)-1)]
			if d.Action != decision.None {
				cond += " after " + string(d.Action)
			}
			reason = cond + ": " + facts
		}
		all = append(all, timed{step.After.Duration, Notification{To: step.Notify, After: FormatDuration(step.After.Duration), Reason: reason}})
	}
	slices.SortStableFunc(all, func(a, b timed) int { return cmp.Compare(a.after, b.after) })
	for _, t := range all {
		out = append(out, t.n)
	}
	return out
}

// describe is the one-line context a person paged needs: the diagnosis and where memory stands,
// as a share of the limit it was measured under.
func describe(s snapshot.Snapshot, sig signals.Signals, d decision.Decision) string {
	var b strings.Builder
	b.WriteString(string(d.Diagnosis))
	if sig.HasMemoryData {
		fmt.Fprintf(&b, ", memory at %.0f%%", sig.MemoryNow*100)
		if lim := measuredUnder(s, sig.MemoryLimitMiB); lim > 0 {
			fmt.Fprintf(&b, " of %s", quantity.FormatMemory(lim))
		}
	}
	return b.String()
}

// measuredUnder is the memory limit the newest memory point was measured under. It is the live
// limit unless the serving template's revision is newer than that point (a raise landed after
// it): then it is the limit of the newest revision created by then, so "93 % of 2Gi" is not
// told as "93 % of 4Gi".
func measuredUnder(s snapshot.Snapshot, live int64) int64 {
	pts := s.Metrics.MemoryUtilization
	if len(pts) == 0 {
		return live
	}
	at := pts[len(pts)-1].At
	var current, before *snapshot.Revision
	for i := range s.Revisions {
		r := &s.Revisions[i]
		if r.Name == s.Service.LatestCreatedRevision {
			current = r
		}
		if !r.CreatedAt.After(at) && r.Memory != "" && (before == nil || r.CreatedAt.After(before.CreatedAt)) {
			before = r
		}
	}
	if current == nil || !current.CreatedAt.After(at) || before == nil {
		return live
	}
	mib, err := quantity.ParseMemory(before.Memory)
	if err != nil {
		return live
	}
	return mib
}

func policyName(d decision.Decision) string {
	if d.Policy == "" {
		return "the policy"
	}
	return d.Policy
}

// shortDuration writes durations the way people and the config write them: "5m", "1h30m", "0m".
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0m"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
