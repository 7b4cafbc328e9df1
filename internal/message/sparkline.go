package message

import (
	"fmt"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// bars are the eight heights of a sparkline cell, for 0 … 100 % memory utilization.
var bars = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws utilization over the window ending at now in width cells, each the peak of
// its slice of time: the first line is the curve and ends with where memory is now and its peak,
// the second marks with ▔ the cells above threshold. A cell without data is blank. Without any
// data it says so in one line.
func Sparkline(points []snapshot.Point, threshold float64, now time.Time, window time.Duration, width int) []string {
	start := now.Add(-window)
	cells := make([]float64, width)
	has := make([]bool, width)
	var last, peak float64
	var lastAt time.Time
	for _, p := range points {
		if p.At.Before(start) || p.At.After(now) {
			continue
		}
		i := int(p.At.Sub(start) * time.Duration(width) / window)
		if i >= width {
			i = width - 1
		}
		if !has[i] || p.Value > cells[i] {
			cells[i] = p.Value
		}
		has[i] = true
		peak = max(peak, p.Value)
		if !p.At.Before(lastAt) {
			last, lastAt = p.Value, p.At
		}
	}
	if lastAt.IsZero() {
		return []string{"no memory data in the last " + words(window)}
	}
	var curve, marks strings.Builder
	for i := range cells {
		if !has[i] {
			curve.WriteRune(' ')
			marks.WriteRune(' ')
			continue
		}
		h := int(cells[i] * float64(len(bars)))
		curve.WriteRune(bars[min(max(h, 0), len(bars)-1)])
		if threshold > 0 && cells[i] > threshold {
			marks.WriteRune('▔')
		} else {
			marks.WriteRune(' ')
		}
	}
	fmt.Fprintf(&curve, "  now %.0f%%, peak %.0f%%", last*100, peak*100)
	fmt.Fprintf(&marks, "  ▔ above the %.0f%% threshold", threshold*100)
	return []string{curve.String(), marks.String()}
}

func words(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}
