package chart

import (
	"fmt"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Size of the small chart drawn per service on the fleet page.
const (
	SparkWidth  = 300
	SparkHeight = 84
)

// Spark renders the small chart: the memory line with its gaps, the threshold and verify lines
// unlabelled, changes as thin lines and OOM kills as ticks at the bottom. Title becomes the
// SVG's accessible name.
func Spark(c Chart) string {
	from, to := c.span()
	f := frame{x0: 1, y0: 2, w: SparkWidth - 2, h: SparkHeight - 4, from: from, to: to}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`,
		SparkWidth, SparkHeight, SparkWidth, SparkHeight)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(c.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#f8f9fa" stroke="#dadce0"/>`+"\n", SparkWidth, SparkHeight)
	levels(&b, f, c, false)
	for _, m := range c.Changes {
		x := f.x(m.At)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"><title>%s</title></line>`+"\n",
			num(x), num(f.y0), num(x), num(f.y0+f.h), ChangeColour, esc(m.Label))
	}
	memory(&b, f, c.Memory, 1.5)
	for _, m := range c.Kills {
		x := f.x(m.At)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"/>`+"\n",
			num(x), num(f.y0+f.h-6), num(x), num(f.y0+f.h), KillColour)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// blocks are the eight heights of a unicode sparkline, lowest first.
var blocks = []rune("▁▂▃▄▅▆▇█")

// Unicode is a terminal sparkline of the series in n cells over [from, to] on the 0–100 % scale:
// each cell is the highest sample in its slice of time, and a slice without data is a space. A
// zero from or to takes the data's.
func Unicode(pts []snapshot.Point, from, to time.Time, n int) string {
	if len(pts) == 0 || n <= 0 {
		return ""
	}
	if from.IsZero() {
		from = pts[0].At
	}
	if to.IsZero() {
		to = pts[len(pts)-1].At
	}
	if !to.After(from) {
		to = from.Add(time.Minute)
	}
	cells := make([]float64, n)
	have := make([]bool, n)
	span := to.Sub(from)
	for _, p := range pts {
		if p.At.Before(from) || p.At.After(to) {
			continue
		}
		i := min(int(float64(n)*float64(p.At.Sub(from))/float64(span)), n-1)
		if !have[i] || p.Value > cells[i] {
			cells[i], have[i] = p.Value, true
		}
	}
	out := make([]rune, n)
	for i := range cells {
		if !have[i] {
			out[i] = ' '
			continue
		}
		out[i] = blocks[min(int(clamp(cells[i])*float64(len(blocks))), len(blocks)-1)]
	}
	return string(out)
}
