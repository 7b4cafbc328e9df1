package plan

import (
	"fmt"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// sparkColumns is how many marks a sparkline has: a 3-hour window is one mark per ~4 minutes.
const sparkColumns = 45

// MemoryWindow is the memory graph a person glances at before acting: p99 utilization over the
// snapshot's window, one value a column (each the highest of its minutes), and the threshold.
type MemoryWindow struct {
	Values    []float64     // 0..1, oldest first
	Now       float64       // the last point
	Step      time.Duration // the time each value covers
	Span      time.Duration // the time the points cover
	End       time.Time     // the last point's time
	Threshold float64
}

// memoryWindow condenses the memory series to at most sparkColumns values, keeping each bucket's
// peak so a short spike still shows. Nil when there is no memory data.
func memoryWindow(s snapshot.Snapshot) *MemoryWindow {
	pts := s.Metrics.MemoryUtilization
	if len(pts) == 0 {
		return nil
	}
	per := (len(pts) + sparkColumns - 1) / sparkColumns
	last := pts[len(pts)-1]
	w := &MemoryWindow{Now: last.Value, Span: last.At.Sub(pts[0].At), End: last.At, Threshold: 0.85}
	if s.Incident.Threshold != nil {
		w.Threshold = *s.Incident.Threshold
	}
	if len(pts) > 1 {
		every := w.Span / time.Duration(len(pts)-1)
		w.Span += every // n points a minute apart cover n minutes
		w.Step = every * time.Duration(per)
	}
	for i := 0; i < len(pts); i += per {
		peak := pts[i].Value
		for _, p := range pts[i:min(i+per, len(pts))] {
			peak = max(peak, p.Value)
		}
		w.Values = append(w.Values, peak)
	}
	return w
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// spark is the mark for a utilization: eight steps over 0..100 %.
func spark(v float64) rune {
	i := int(v * float64(len(sparks)))
	return sparks[max(0, min(i, len(sparks)-1))]
}

// writeMemory draws the window as two lines: the sparkline, and under it a ^ below every column
// above the threshold.
func writeMemory(b *strings.Builder, c painter, w *MemoryWindow) {
	if w == nil || len(w.Values) == 0 {
		return
	}
	var line, above strings.Builder
	peak, over := 0.0, false
	for _, v := range w.Values {
		line.WriteRune(spark(v))
		peak = max(peak, v)
		if v > w.Threshold {
			above.WriteRune('^')
			over = true
		} else {
			above.WriteRune(' ')
		}
	}
	fmt.Fprintf(b, "\n%s p99 of the limit, %s to %s, a mark per %s\n", c.bold("Memory:"),
		FormatDuration(w.Span.Round(time.Minute)), w.End.UTC().Format("15:04 UTC"), FormatDuration(w.Step.Round(time.Minute)))
	fmt.Fprintf(b, "  %s  now %.0f%%, peak %.0f%%\n", line.String(), w.Now*100, peak*100)
	if over {
		fmt.Fprintf(b, "  %s  ^ above the %.0f%% threshold\n", above.String(), w.Threshold*100)
	} else {
		fmt.Fprintf(b, "  never above the %.0f%% threshold\n", w.Threshold*100)
	}
}
