// Package chart draws a service's memory over time as SVG for people to read: the p99 line on a
// 0–100 % scale, the alert threshold and the verify-below line, each change runmedic made and each
// OOM kill marked. It is pure and deterministic (same Chart, same bytes) and the SVG is
// self-contained: no script, no font or image fetched.
package chart

import (
	"fmt"
	"html"
	"slices"
	"sort"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Colours of the chart's parts. Tests that look at a rendered page find the memory line by
// MemoryColour.
const (
	MemoryColour    = "#1a73e8"
	ThresholdColour = "#d93025"
	VerifyColour    = "#188038"
	ChangeColour    = "#7b1fa2"
	KillColour      = "#e8710a"
	IncidentColour  = "#fce8e6" // the band while the incident is open
)

// Chart is what one chart shows. Memory is p99 utilization, 0..1, oldest first; points further
// apart than about three sampling intervals are a gap in the data and drawn as one. A zero
// Threshold or VerifyBelow is not drawn. From and To bound the time axis; zero takes the data's.
type Chart struct {
	Title       string
	Memory      []snapshot.Point
	Threshold   float64
	VerifyBelow float64
	From, To    time.Time
	Changes     []Marker // changes runmedic made, labelled "2Gi→4Gi"
	Kills       []Marker // OOM kills
	// Opened and Closed shade the time the incident was open; a zero Closed means still open.
	// A zero Opened shades nothing.
	Opened, Closed time.Time
}

// Marker is one labelled instant on the time axis.
type Marker struct {
	At    time.Time
	Label string
}

// KillMarkers turns the OOM evidence of a snapshot into markers: each revision's first kill, and
// its last when it differs, labelled with the revision's count. Nil or unreadable logs give none.
func KillMarkers(l *snapshot.Logs) []Marker {
	if l == nil || !l.Available {
		return nil
	}
	var out []Marker
	for _, k := range l.OOMKills {
		label := fmt.Sprintf("%d OOM kill", k.Count)
		if k.Count != 1 {
			label += "s"
		}
		label += " on " + k.Revision
		out = append(out, Marker{At: k.First, Label: label})
		if k.Count > 1 && !k.Last.Equal(k.First) {
			out = append(out, Marker{At: k.Last, Label: label})
		}
	}
	sortMarkers(out)
	return out
}

func sortMarkers(m []Marker) {
	sort.SliceStable(m, func(i, j int) bool { return m[i].At.Before(m[j].At) })
}

// span is the time axis: the chart's own bounds, else the data's and the markers'.
func (c Chart) span() (from, to time.Time) {
	from, to = c.From, c.To
	var ts []time.Time
	for _, p := range c.Memory {
		ts = append(ts, p.At)
	}
	for _, m := range slices.Concat(c.Changes, c.Kills) {
		ts = append(ts, m.At)
	}
	for _, t := range ts {
		if c.From.IsZero() && (from.IsZero() || t.Before(from)) {
			from = t
		}
		if c.To.IsZero() && (to.IsZero() || t.After(to)) {
			to = t
		}
	}
	if !to.After(from) {
		to = from.Add(time.Hour)
	}
	return from, to
}

// segments splits the memory series where data is missing: a step longer than 2.5 times the
// usual (median) step between samples starts a new segment. Points outside [from, to] are dropped.
func segments(pts []snapshot.Point, from, to time.Time) [][]snapshot.Point {
	var in []snapshot.Point
	for _, p := range pts {
		if !p.At.Before(from) && !p.At.After(to) {
			in = append(in, p)
		}
	}
	if len(in) == 0 {
		return nil
	}
	var steps []time.Duration
	for i := 1; i < len(in); i++ {
		steps = append(steps, in[i].At.Sub(in[i-1].At))
	}
	limit := time.Duration(1<<63 - 1)
	if len(steps) > 0 {
		s := slices.Clone(steps)
		slices.Sort(s)
		limit = s[len(s)/2] * 5 / 2
	}
	out := [][]snapshot.Point{{in[0]}}
	for i := 1; i < len(in); i++ {
		if steps[i-1] > limit {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], in[i])
	}
	return out
}

// clamp keeps a utilization on the 0..1 scale the chart draws.
func clamp(v float64) float64 { return min(max(v, 0), 1) }

// esc escapes text for SVG and HTML.
func esc(s string) string { return html.EscapeString(s) }

// num formats a coordinate with one decimal, so output is stable and compact.
func num(v float64) string { return fmt.Sprintf("%.1f", v) }
