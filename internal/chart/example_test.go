package chart_test

import (
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/chart"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// A terminal sparkline of memory: each cell is the peak of its slice of time, a gap is blank.
func ExampleUnicode() {
	t0 := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	var pts []snapshot.Point
	for i, v := range []float64{0.40, 0.55, 0.70, 0.85, 0.93, -1, -1, 0.52} {
		if v >= 0 {
			pts = append(pts, snapshot.Point{At: t0.Add(time.Duration(i) * time.Minute), Value: v})
		}
	}
	fmt.Printf("[%s]\n", chart.Unicode(pts, t0, t0.Add(8*time.Minute), 8))
	// Output: [▄▅▆▇█  ▅]
}
