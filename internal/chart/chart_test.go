package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/golden"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// incident is three hours of a leak: memory climbs, OOM kills, a gap in the data, a raise to
// 4Gi at 10:50 and memory settling at about 55 %.
func incident() Chart {
	var pts []snapshot.Point
	for m := 0; m <= 180; m++ {
		if m >= 40 && m < 52 {
			continue // no data
		}
		v := 0.55 + 0.4*float64(m)/110
		if m >= 110 {
			v = 0.95
		}
		if m >= 112 {
			v = 0.55 + 0.02*float64(m%3)
		}
		pts = append(pts, snapshot.Point{At: t0.Add(time.Duration(m) * time.Minute), Value: v})
	}
	logs := &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{
		{Revision: "api-00042-abc", Count: 3, LimitMiB: 2048, MaxUsedMiB: 2100, First: t0.Add(95 * time.Minute), Last: t0.Add(108 * time.Minute)},
	}}
	return Chart{
		Title:  "aiprod-api · incident 0.nrwotmyokd9n",
		Memory: pts, Threshold: 0.85, VerifyBelow: 0.80,
		Changes: []Marker{{At: t0.Add(110 * time.Minute), Label: "2Gi→4Gi"}},
		Kills:   KillMarkers(logs),
		Opened:  t0.Add(100 * time.Minute), Closed: t0.Add(150 * time.Minute),
	}
}

// wellFormed parses s as XML, returning how many of each element it holds.
func wellFormed(t *testing.T, s string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	n := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			n[se.Name.Local]++
		}
	}
}

func TestSVGGolden(t *testing.T) {
	got := SVG(incident())
	golden.Check(t, "testdata/incident.svg", got)
	if again := SVG(incident()); again != got {
		t.Error("SVG is not deterministic: two renders of one chart differ")
	}
	n := wellFormed(t, got)
	if n["polyline"] != 2 {
		t.Errorf("SVG has %d memory polylines, want 2 (the 12-minute gap splits the line)", n["polyline"])
	}
	if n["script"] != 0 || strings.Contains(got, "href") {
		t.Error("SVG must hold no script and fetch nothing")
	}
	for _, want := range []string{"2Gi→4Gi", "threshold 85%", "verify below 80%", "OOM kill", ">09:00<", ">11:30<", "100%"} {
		if !strings.Contains(got, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestSparkGolden(t *testing.T) {
	got := Spark(incident())
	golden.Check(t, "testdata/spark.svg", got)
	n := wellFormed(t, got)
	if n["polyline"] != 2 || n["text"] != 0 {
		t.Errorf("Spark has %d polylines and %d texts, want 2 and none", n["polyline"], n["text"])
	}
}

func TestKillMarkers(t *testing.T) {
	l := &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{
		{Revision: "b", Count: 1, First: t0.Add(5 * time.Minute), Last: t0.Add(5 * time.Minute)},
		{Revision: "a", Count: 4, First: t0, Last: t0.Add(9 * time.Minute)},
	}}
	want := []Marker{
		{At: t0, Label: "4 OOM kills on a"},
		{At: t0.Add(5 * time.Minute), Label: "1 OOM kill on b"},
		{At: t0.Add(9 * time.Minute), Label: "4 OOM kills on a"},
	}
	if diff := cmp.Diff(want, KillMarkers(l)); diff != "" {
		t.Errorf("KillMarkers (-want +got):\n%s", diff)
	}
	if got := KillMarkers(&snapshot.Logs{Available: false, OOMKills: l.OOMKills}); got != nil {
		t.Errorf("KillMarkers(unreadable logs) = %v, want none", got)
	}
}

func TestUnicode(t *testing.T) {
	at := func(m int, v float64) snapshot.Point {
		return snapshot.Point{At: t0.Add(time.Duration(m) * time.Minute), Value: v}
	}
	tests := []struct {
		name string
		pts  []snapshot.Point
		n    int
		want string
	}{
		{"empty", nil, 8, ""},
		{"rising", []snapshot.Point{at(0, 0), at(1, 0.3), at(2, 0.6), at(3, 1)}, 4, "▁▃▅█"},
		{"gap is blank", []snapshot.Point{at(0, 0.5), at(1, 0.5), at(6, 0.5), at(7, 0.5)}, 8, "▅▅    ▅▅"},
		{"cell keeps its peak", []snapshot.Point{at(0, 0.1), at(1, 0.99), at(2, 0.1), at(3, 0.1)}, 2, "█▁"},
		{"out of range clamps", []snapshot.Point{at(0, -1), at(1, 3)}, 2, "▁█"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := time.Time{}
			if len(tt.pts) > 0 {
				to = tt.pts[len(tt.pts)-1].At.Add(time.Minute)
			}
			if got := Unicode(tt.pts, time.Time{}, to, tt.n); got != tt.want {
				t.Errorf("Unicode(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestTickStep(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{
		10 * time.Minute:     2 * time.Minute,
		3 * time.Hour:        30 * time.Minute,
		24 * time.Hour:       3 * time.Hour,
		300 * 24 * time.Hour: 38 * 24 * time.Hour,
	} {
		if got := tickStep(d); got != want {
			t.Errorf("tickStep(%v) = %v, want %v", d, got, want)
		}
	}
}
