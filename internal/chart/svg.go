package chart

import (
	"fmt"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Size of the full chart, in SVG user units (CSS pixels when inlined).
const (
	Width  = 800
	Height = 320
)

const (
	left, right, top, bottom = 52.0, 20.0, 54.0, 44.0
)

// halo keeps a label readable where it crosses a line.
const halo = `stroke="#ffffff" stroke-width="3" paint-order="stroke"`

// frame maps times and utilizations onto a plot area.
type frame struct {
	x0, y0, w, h float64
	from, to     time.Time
}

func (f frame) x(t time.Time) float64 {
	return f.x0 + f.w*float64(t.Sub(f.from))/float64(f.to.Sub(f.from))
}

func (f frame) y(v float64) float64 { return f.y0 + f.h*(1-clamp(v)) }

// SVG renders the full chart: title, axes with UTC times and percentages, the memory line with
// gaps where data is missing, the threshold and verify lines, and the change and OOM-kill markers
// with a legend.
func SVG(c Chart) string {
	from, to := c.span()
	f := frame{x0: left, y0: top, w: Width - left - right, h: Height - top - bottom, from: from, to: to}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11" role="img">`+"\n",
		Width, Height, Width, Height)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(c.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", Width, Height)
	fmt.Fprintf(&b, `<text x="%s" y="18" font-size="14" font-weight="bold" fill="#202124">%s</text>`+"\n", num(left), esc(c.Title))
	legend(&b, c)

	// Percent axis and grid.
	for _, p := range []float64{0, 0.25, 0.5, 0.75, 1} {
		y := f.y(p)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e0e0e0"/>`+"\n", num(f.x0), num(y), num(f.x0+f.w), num(y))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end" fill="#5f6368">%d%%</text>`+"\n", num(f.x0-6), num(y+4), int(p*100))
	}
	// Time axis.
	step := tickStep(to.Sub(from))
	layout := "15:04"
	if to.Sub(from) > 24*time.Hour {
		layout = "Jan 2 15:04"
	}
	for t := from.Truncate(step); !t.After(to); t = t.Add(step) {
		if t.Before(from) {
			continue
		}
		x := f.x(t)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#9aa0a6"/>`+"\n", num(x), num(f.y0+f.h), num(x), num(f.y0+f.h+4))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="#5f6368">%s</text>`+"\n", num(x), num(f.y0+f.h+16), t.UTC().Format(layout))
	}
	fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="#5f6368">%s – %s UTC · memory p99, %% of the limit</text>`+"\n",
		num(f.x0+f.w/2), num(Height-6.0), from.UTC().Format("2006-01-02 15:04"), to.UTC().Format("15:04"))
	fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#bdc1c6"/>`+"\n", num(f.x0), num(f.y0), num(f.w), num(f.h))

	if !c.Opened.IsZero() {
		x0, x1 := max(f.x(c.Opened), f.x0), f.x0+f.w
		if !c.Closed.IsZero() {
			x1 = min(f.x(c.Closed), x1)
		}
		if x1 > x0 {
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", num(x0), num(f.y0), num(x1-x0), num(f.h), IncidentColour)
			fmt.Fprintf(&b, `<text x="%s" y="%s" fill="#a50e0e">incident open</text>`+"\n", num(x0+4), num(f.y0+f.h-6))
		}
	}
	levels(&b, f, c, true)
	for _, m := range c.Changes {
		x := f.x(m.At)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"/>`+"\n", num(x), num(f.y0), num(x), num(f.y0+f.h), ChangeColour)
	}
	memory(&b, f, c.Memory, 2)
	for _, m := range c.Changes {
		// A label that would run past the plot's right edge is drawn to the left of its line.
		x, anchor := f.x(m.At)+4, "start"
		if x+7*float64(len([]rune(m.Label))) > f.x0+f.w {
			x, anchor = f.x(m.At)-4, "end"
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="%s" fill="%s" font-weight="bold" %s>%s</text>`+"\n", num(x), num(f.y0+13), anchor, ChangeColour, halo, esc(m.Label))
	}
	for _, m := range c.Kills {
		x, y := f.x(m.At), f.y0+f.h
		fmt.Fprintf(&b, `<path d="M%s %sl-5 -9h10z" fill="%s"><title>%s at %s UTC</title></path>`+"\n",
			num(x), num(y-1), KillColour, esc(m.Label), m.At.UTC().Format("15:04"))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// legend names the lines and markers drawn, on one row under the title.
func legend(b *strings.Builder, c Chart) {
	x := left
	item := func(colour, text string, dashed bool) {
		dash := ""
		if dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(b, `<line x1="%s" y1="34" x2="%s" y2="34" stroke="%s" stroke-width="2"%s/>`+"\n", num(x), num(x+18), colour, dash)
		fmt.Fprintf(b, `<text x="%s" y="38" fill="#3c4043">%s</text>`+"\n", num(x+22), esc(text))
		x += 30 + 6.2*float64(len([]rune(text)))
	}
	item(MemoryColour, "memory p99", false)
	if c.Threshold > 0 {
		item(ThresholdColour, fmt.Sprintf("threshold %.0f%%", c.Threshold*100), true)
	}
	if c.VerifyBelow > 0 {
		item(VerifyColour, fmt.Sprintf("verify below %.0f%%", c.VerifyBelow*100), true)
	}
	if len(c.Changes) > 0 {
		item(ChangeColour, "change by runmedic", false)
	}
	if len(c.Kills) > 0 {
		fmt.Fprintf(b, `<path d="M%s 39l-5 -9h10z" fill="%s"/>`+"\n", num(x+9), KillColour)
		fmt.Fprintf(b, `<text x="%s" y="38" fill="#3c4043">OOM kill</text>`+"\n", num(x+22))
	}
}

// levels draws the threshold and verify-below lines, labelled on the full chart.
func levels(b *strings.Builder, f frame, c Chart, labelled bool) {
	for _, l := range []struct {
		v      float64
		colour string
	}{{c.Threshold, ThresholdColour}, {c.VerifyBelow, VerifyColour}} {
		if l.v <= 0 {
			continue
		}
		y := f.y(l.v)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4" shape-rendering="crispEdges"/>`+"\n", num(f.x0), num(y), num(f.x0+f.w), num(y), l.colour)
		if labelled {
			// The lower line is labelled under itself, so close levels do not collide.
			dy := -3.0
			if l.colour == VerifyColour {
				dy = 11
			}
			fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="end" fill="%s" %s>%.0f%%</text>`+"\n", num(f.x0+f.w-2), num(y+dy), l.colour, halo, l.v*100)
		}
	}
}

// memory draws the series as one polyline per stretch of data.
func memory(b *strings.Builder, f frame, pts []snapshot.Point, width float64) {
	for _, seg := range segments(pts, f.from, f.to) {
		if len(seg) == 1 {
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="%s" fill="%s"/>`+"\n", num(f.x(seg[0].At)), num(f.y(seg[0].Value)), num(width), MemoryColour)
			continue
		}
		var p []string
		for _, s := range seg {
			p = append(p, num(f.x(s.At))+","+num(f.y(s.Value)))
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"/>`+"\n",
			strings.Join(p, " "), MemoryColour, num(width))
	}
}

// tickStep picks a round time step giving at most eight ticks over d.
func tickStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	} {
		if d/s <= 8 {
			return s
		}
	}
	// Longer spans: whole days, as many as keep the ticks at eight or fewer.
	day := 24 * time.Hour
	return (d/8 + day - 1) / day * day
}
