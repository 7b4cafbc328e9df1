package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/chart"
)

// HTML renders the write-up as one self-contained page: inline CSS, the chart as inline SVG, no
// script and nothing fetched, so it can be attached to a ticket or mailed as is.
func HTML(in Incident) (string, error) {
	data := struct {
		Incident
		Facts        [][2]string
		Chart        template.HTML
		Entries      []Entry
		Verification string
		Short        func(time.Time) string
	}{
		Incident:     in,
		Facts:        in.facts(),
		Chart:        template.HTML(chart.SVG(in.Chart)), // chart escapes all text it draws
		Entries:      in.timeline(),
		Verification: strings.ReplaceAll(in.verification(), "**", ""),
		Short:        in.short,
	}
	var b bytes.Buffer
	if err := page.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render incident %s as HTML: %w", in.ID, err)
	}
	return b.String(), nil
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"clock": clock,
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Memory incident {{.ID}} on {{.Name}}</title>
<style>
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #202124; max-width: 1040px; margin: 24px auto; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; border-bottom: 1px solid #dadce0; padding-bottom: 4px; margin-top: 28px; }
.outcome { font-size: 16px; font-weight: 600; margin: 8px 0 16px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #eceff1; }
th { background: #f8f9fa; font-weight: 600; }
table.facts th { width: 140px; background: none; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; color: #5f6368; }
.kind { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; background: #e8eaed; }
.kind-alert, .kind-oom { background: #fce8e6; color: #a50e0e; }
.kind-change { background: #f3e8fd; color: #681da8; }
.kind-verification, .kind-closed { background: #e6f4ea; color: #137333; }
.kind-message { background: #fef7e0; color: #7a4f01; }
.kind-decision, .kind-plan { background: #e8f0fe; color: #174ea6; }
ul.detail { margin: 2px 0 0; padding-left: 18px; color: #3c4043; }
.chart { overflow-x: auto; border: 1px solid #dadce0; border-radius: 6px; padding: 8px; }
.muted { color: #5f6368; }
code { font-size: 13px; }
</style>
</head>
<body>
<h1>Memory incident {{.ID}} on {{.Name}}</h1>
{{with .Outcome}}<p class="outcome">{{.}}</p>{{end}}
<table class="facts">
{{range .Facts}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>

<h2>Memory</h2>
<div class="chart">{{.Chart}}</div>

<h2>Timeline</h2>
{{if .Entries}}<table>
<tr><th>Time (UTC)</th><th></th><th>What happened</th></tr>
{{range .Entries}}<tr><td class="time">{{call $.Short .At}}</td><td><span class="kind kind-{{.Kind}}">{{.Kind}}</span></td><td>{{.Text}}{{if .Detail}}<ul class="detail">{{range .Detail}}<li>{{.}}</li>{{end}}</ul>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted">Nothing was recorded.</p>{{end}}

<h2>Changes</h2>
{{if .Changes}}<table>
<tr><th>Time (UTC)</th><th>Action</th><th>Change</th><th>Revision</th><th>Outcome</th></tr>
{{range .Changes}}<tr><td class="time">{{call $.Short .At}}</td><td>{{.Action}}</td><td>{{range .Fields}}<code>{{.}}</code><br>{{end}}</td><td>{{.Revision}}</td><td>{{.Outcome}}</td></tr>
{{end}}</table>{{else}}<p class="muted">runmedic changed nothing.</p>{{end}}

<h2>Verification</h2>
<p>{{.Verification}}</p>

<h2>People told</h2>
{{if .Notifications}}<table>
<tr><th>Time (UTC)</th><th>To</th><th>Sink</th><th>Step</th><th>Result</th></tr>
{{range .Notifications}}<tr><td class="time">{{call $.Short .At}}</td><td>{{.To}}</td><td>{{.Sink}}</td><td>{{.Step}}</td><td>{{.Outcome}}{{with .Error}}: {{.}}{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No message was sent.</p>{{end}}

<h2>Evidence</h2>
{{if .Evidence}}<ul>{{range .Evidence}}<li>{{.}}</li>{{end}}</ul>{{else}}<p class="muted">None recorded.</p>{{end}}

<p class="muted">Written by runmedic at {{clock .GeneratedAt}}.</p>
</body>
</html>
`))
