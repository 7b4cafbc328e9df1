package status

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/runmedic/runmedic/internal/chart"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Text renders the rows for a terminal: one line per service, then an indented line for each
// thing it is watching, did, waits for or is held by.
func Text(rows []Row, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d managed service%s at %s\n\n", len(rows), plural(len(rows)), now.UTC().Format("2006-01-02 15:04 UTC"))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tPROJECT/LOCATION\tSTATE\tMODE\tLIMIT\tP99\tLAST 3H\tBUDGET")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name(), where(r.Service), r.State(), dash(r.Mode),
			dash(r.MemoryLimit), pct(r.MemoryNow), dash(r.Spark), budget(r))
	}
	tw.Flush()
	var detail strings.Builder
	for _, r := range rows {
		lines := Details(r, now)
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&detail, "\n%s\n", r.Name())
		for _, l := range lines {
			fmt.Fprintf(&detail, "  %s\n", l)
		}
	}
	b.WriteString(detail.String())
	return b.String()
}

// Details words what a row holds beyond its one line, in the order people act on it.
func Details(r Row, now time.Time) []string {
	var out []string
	if r.Error != "" {
		out = append(out, "cannot read: "+r.Error)
	}
	if r.Hold != "" {
		out = append(out, "held: "+r.Hold)
	}
	for _, w := range r.Watching {
		s := fmt.Sprintf("watching incident %s", w.Incident)
		if w.Severity != "" {
			s += " (" + w.Severity + ")"
		}
		out = append(out, s+fmt.Sprintf(", open since %s (%s)", at(w.StartedAt, now), ago(now.Sub(w.StartedAt))))
	}
	if a := r.LastAction; a != nil {
		s := fmt.Sprintf("last action: %s for %s at %s", a.Action, a.Incident, at(a.At, now))
		if a.Change != "" {
			s += ", " + a.Change
		}
		if a.Revision != "" {
			s += ", revision " + a.Revision
		}
		out = append(out, s+", "+string(a.Outcome))
	}
	if p := r.Pending; p != nil {
		when := "in " + ago(p.Due.Sub(now))
		if !p.Due.After(now) {
			when = "overdue by " + ago(now.Sub(p.Due))
		}
		out = append(out, fmt.Sprintf("verification of %s due %s (%s)", p.Action, at(p.Due, now), when))
	}
	if r.Rollout != "" {
		out = append(out, "rollout in progress: "+r.Rollout)
	}
	if p := r.Pin; p != nil {
		out = append(out, fmt.Sprintf("traffic pinned to %s since %s for %s; release with `runmedic unpin`", p.Revision, at(p.Since, now), p.Incident))
	}
	if r.Budget > 0 && r.BudgetLeft <= 0 {
		out = append(out, fmt.Sprintf("budget spent: %d changes in the last 24 hours", r.Budget))
	}
	for _, f := range r.Failing {
		out = append(out, "failing sink: "+f)
	}
	return out
}

// JSON renders the rows as one document for scripts.
func JSON(rows []Row, now time.Time) ([]byte, error) {
	if rows == nil {
		rows = []Row{}
	}
	doc := struct {
		At       time.Time `json:"at"`
		Services []Row     `json:"services"`
	}{now.UTC(), rows}
	return json.MarshalIndent(doc, "", "  ")
}

// HTML renders the fleet on one self-contained page: a card per service with its small memory
// chart (threshold, verify line and changes marked), its state and its details. No script, and
// nothing is fetched.
func HTML(rows []Row, now time.Time) (string, error) {
	type card struct {
		Row
		Chart   template.HTML
		Now     string
		Details []string
	}
	var cards []card
	for _, r := range rows {
		c := chart.Chart{Title: r.Name() + " memory p99, last 3 hours", Memory: r.Memory,
			Threshold: r.Threshold, VerifyBelow: r.VerifyBelow, From: now.Add(-3 * time.Hour), To: now}
		for _, ch := range r.Changes {
			c.Changes = append(c.Changes, chart.Marker{At: ch.At, Label: ch.Label})
		}
		cards = append(cards, card{Row: r, Chart: template.HTML(chart.Spark(c)), Now: pct(r.MemoryNow), Details: Details(r, now)})
	}
	var b bytes.Buffer
	data := struct {
		At    string
		Cards []card
	}{now.UTC().Format("2006-01-02 15:04 UTC"), cards}
	if err := fleetPage.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render the fleet page: %w", err)
	}
	return b.String(), nil
}

var fleetPage = template.Must(template.New("fleet").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>runmedic fleet status</title>
<style>
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #202124; margin: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.muted { color: #5f6368; font-size: 13px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 16px; margin-top: 16px; }
.card { border: 1px solid #dadce0; border-radius: 8px; padding: 12px 14px; }
.card h2 { font-size: 16px; margin: 0; display: flex; justify-content: space-between; align-items: center; }
.where { color: #5f6368; font-size: 12px; margin-bottom: 8px; }
.badge { font-size: 12px; font-weight: 600; border-radius: 10px; padding: 1px 9px; }
.state-ok { background: #e6f4ea; color: #137333; }
.state-watching, .state-verifying { background: #fef7e0; color: #7a4f01; }
.state-pinned { background: #f3e8fd; color: #681da8; }
.state-held, .state-error, .state-high { background: #fce8e6; color: #a50e0e; }
.facts { font-size: 13px; margin: 6px 0; }
.facts b { font-variant-numeric: tabular-nums; }
ul { margin: 6px 0 0; padding-left: 18px; font-size: 13px; color: #3c4043; }
</style>
</head>
<body>
<h1>runmedic fleet status</h1>
<div class="muted">{{len .Cards}} managed service{{if ne (len .Cards) 1}}s{{end}} at {{.At}} · memory p99 over the last 3 hours, threshold dashed red, verify line dashed green, changes purple</div>
<div class="grid">
{{range .Cards}}<div class="card">
<h2>{{.Name}} <span class="badge state-{{.State}}">{{.State}}</span></h2>
<div class="where">{{.Service}}</div>
{{.Chart}}
<div class="facts">mode <b>{{or .Mode "—"}}</b> · limit <b>{{or .MemoryLimit "—"}}</b> · p99 now <b>{{.Now}}</b>{{if .Budget}} · budget <b>{{.BudgetLeft}}/{{.Budget}}</b> today{{end}}</div>
{{if .Details}}<ul>{{range .Details}}<li>{{.}}</li>{{end}}</ul>{{end}}
</div>
{{end}}</div>
</body>
</html>
`))

func where(service string) string {
	p := strings.Split(service, "/")
	if len(p) == 6 {
		return p[1] + "/" + p[3]
	}
	return "—"
}

func pct(v float64) string {
	if v < 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", v*100)
}

func budget(r Row) string {
	if r.Budget <= 0 {
		return "—"
	}
	return fmt.Sprintf("%d/%d", r.BudgetLeft, r.Budget)
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// at formats an instant for a row seen at now: the time alone on now's day, else with the date.
func at(t, now time.Time) string {
	if t.UTC().Format("20060102") == now.UTC().Format("20060102") {
		return t.UTC().Format("15:04")
	}
	return t.UTC().Format("Jan 2 15:04")
}

// ago words a duration to the minute: "5m", "2h05m".
func ago(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < 0 {
		d = -d
	}
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
	}
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}

// Sparkline is the row's unicode sparkline over the three hours before now.
func Sparkline(pts []snapshot.Point, now time.Time) string {
	return chart.Unicode(pts, now.Add(-3*time.Hour), now, 36)
}
