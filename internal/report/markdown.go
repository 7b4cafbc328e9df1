package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/chart"
)

// Markdown renders the write-up. The chart is linked when ChartFile is set; a unicode sparkline
// of memory over the incident is always shown, so the text stands on its own in a terminal.
func Markdown(in Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Memory incident %s on %s\n\n", in.ID, in.Name())
	if in.Outcome != "" {
		fmt.Fprintf(&b, "**%s**\n\n", in.Outcome)
	}
	b.WriteString("| | |\n|---|---|\n")
	for _, r := range in.facts() {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], cell(r[1]))
	}

	b.WriteString("\n## Memory\n\n")
	if in.ChartFile != "" {
		fmt.Fprintf(&b, "![%s](%s)\n\n", in.Chart.Title, in.ChartFile)
	}
	if spark := chart.Unicode(in.Chart.Memory, in.Chart.From, in.Chart.To, 60); spark != "" {
		mem := in.Chart.Memory
		fmt.Fprintf(&b, "```\n%s %s %s UTC\n      %s\n```\n\n", first(in).UTC().Format("15:04"), spark,
			mem[len(mem)-1].At.UTC().Format("15:04"), in.sparkCaption())
	} else {
		b.WriteString("No memory data was readable for the incident's window.\n\n")
	}

	b.WriteString("## Timeline\n\n")
	if len(in.Timeline) == 0 {
		b.WriteString("Nothing was recorded.\n")
	} else {
		b.WriteString("| Time (UTC) | | What happened |\n|---|---|---|\n")
		for _, e := range in.timeline() {
			text := cell(e.Text)
			for _, d := range e.Detail {
				text += "<br>· " + cell(d)
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", in.short(e.At), e.Kind, text)
		}
	}

	b.WriteString("\n## Changes\n\n")
	if len(in.Changes) == 0 {
		b.WriteString("runmedic changed nothing.\n")
	} else {
		b.WriteString("| Time (UTC) | Action | Change | Revision | Outcome |\n|---|---|---|---|---|\n")
		for _, c := range in.Changes {
			var fields []string
			for _, f := range c.Fields {
				fields = append(fields, cell(f.String()))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", in.short(c.At), c.Action, strings.Join(fields, "<br>"), orDash(c.Revision), c.Outcome)
		}
	}

	b.WriteString("\n## Verification\n\n")
	b.WriteString(in.verification() + "\n")

	b.WriteString("\n## People told\n\n")
	if len(in.Notifications) == 0 {
		b.WriteString("No message was sent.\n")
	} else {
		b.WriteString("| Time (UTC) | To | Sink | Step | Result |\n|---|---|---|---|---|\n")
		for _, n := range in.Notifications {
			res := n.Outcome
			if n.Error != "" {
				res += ": " + n.Error
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", in.short(n.At), cell(n.To), n.Sink, cell(n.Step), cell(res))
		}
	}

	b.WriteString("\n## Evidence\n\n")
	if len(in.Evidence) == 0 {
		b.WriteString("None recorded.\n")
	}
	for _, e := range in.Evidence {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	fmt.Fprintf(&b, "\n_Written by runmedic at %s._\n", clock(in.GeneratedAt))
	return b.String()
}

// facts are the header rows, shared by both renderings.
func (in Incident) facts() [][2]string {
	ended := "still open"
	if !in.EndedAt.IsZero() {
		ended = clock(in.EndedAt)
	}
	rows := [][2]string{
		{"Service", in.Service},
		{"Alert policy", strings.TrimSpace(orDash(in.Policy) + " " + paren(in.Severity))},
		{"Started", clock(in.StartedAt)},
		{"Ended", ended},
		{"Duration", orDash(in.Duration())},
		{"Diagnosis", orDash(in.Diagnosis)},
	}
	if in.URL != "" {
		rows = append(rows, [2]string{"Console", in.URL})
	}
	return rows
}

// verification words the check of the last change.
func (in Incident) verification() string {
	v := in.Verification
	if v == nil {
		return "No change awaited verification."
	}
	s := fmt.Sprintf("%s: memory p99 must stay below %s after the change", v.Action, percent(v.Below))
	if v.Baseline > 0 {
		s += fmt.Sprintf(" (it was %s just before)", percent(v.Baseline))
	}
	switch v.Outcome {
	case "pending":
		return s + fmt.Sprintf("; due at %s, not judged yet.", clock(v.Due))
	case "verified":
		return s + fmt.Sprintf("; judged at %s: **verified**.", clock(v.Due))
	default:
		return s + fmt.Sprintf("; judged at %s: **%s**.", clock(v.Due), v.Outcome)
	}
}

func (in Incident) sparkCaption() string {
	var parts []string
	if in.Chart.Threshold > 0 {
		parts = append(parts, "threshold "+percent(in.Chart.Threshold))
	}
	peak := 0.0
	for _, p := range in.Chart.Memory {
		peak = max(peak, p.Value)
	}
	parts = append(parts, "peak "+percent(peak))
	if n := len(in.Chart.Memory); n > 0 {
		parts = append(parts, "last "+percent(in.Chart.Memory[n-1].Value))
	}
	return strings.Join(parts, ", ")
}

// first is where the chart's time axis starts.
func first(in Incident) time.Time {
	if !in.Chart.From.IsZero() {
		return in.Chart.From
	}
	if len(in.Chart.Memory) > 0 {
		return in.Chart.Memory[0].At
	}
	return in.StartedAt
}

// cell keeps text inside one markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}
