package report

import (
	"encoding/json"
	"flag"
	"image"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/browsertest"
	"github.com/runmedic/runmedic/internal/chart"
	"github.com/runmedic/runmedic/internal/golden"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var shots = flag.String("shots", "", "keep the screenshots in this directory")

var t0 = time.Date(2026, 3, 14, 9, 55, 0, 0, time.UTC)

func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

// sample is a raise that worked: memory at 93 % with OOM kills, raised 2Gi → 4Gi, verified.
func sample() Incident {
	var mem []snapshot.Point
	for m := -60; m <= 75; m++ {
		if m >= -35 && m < -28 {
			continue
		}
		v := 0.70 + 0.23*float64(m+60)/60
		if m >= 0 {
			v = 0.93
		}
		if m >= 12 {
			v = 0.54 + 0.01*float64(m%4)
		}
		mem = append(mem, snapshot.Point{At: at(m), Value: v})
	}
	raise := Change{
		At: at(10), Action: "raise_memory", Revision: "aiprod-api-00043-xyz", Outcome: "verified",
		Fields: FieldsOf([]snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}),
	}
	in := Incident{
		ID: "0.nrwotmyokd9n", Service: "projects/aiprod-484120/locations/europe-west1/services/aiprod-api",
		Policy: "Cloud Run memory p99 > 85%", Severity: "Warning",
		StartedAt: t0, EndedAt: at(41), Diagnosis: "insufficient_memory",
		Outcome:     "Memory raised from 2Gi to 4Gi; verified below 80 % 15 minutes later, and the incident closed.",
		GeneratedAt: at(75),
		Timeline: []Entry{
			{At: at(0), Kind: KindAlert, Text: "Monitoring opened the incident: memory p99 0.93 above the threshold 0.85"},
			{At: at(8), Kind: KindOOM, Text: "3 OOM kills on aiprod-api-00042-abc between 10:00 and 10:03 (largest 2100 MiB used of 2048)"},
			{At: at(10), Kind: KindDelivery, Text: "Notification delivered (open, delivery 1)"},
			{At: at(10), Kind: KindDecision, Text: "raise_memory: insufficient_memory", Detail: []string{"memory p99 0.93 for 10 minutes, flat | no growth"}},
			{At: at(10), Kind: KindPlan, Text: "template.memory 2Gi → 4Gi; guard allows (enforce)"},
			{At: at(10), Kind: KindChange, Text: "raise_memory applied: template.memory 2Gi → 4Gi, revision aiprod-api-00043-xyz ready"},
			{At: at(10), Kind: KindMessage, Text: "change@raise_memory to backend-lead by slack: sent"},
			{At: at(25), Kind: KindVerification, Text: "raise_memory verified: memory 55 % below 80 %"},
			{At: at(41), Kind: KindClosed, Text: "Monitoring closed the incident"},
		},
		Changes:      []Change{raise},
		Verification: &Verification{Action: "raise_memory", Due: at(25), Below: 0.80, Baseline: 0.93, Outcome: "verified"},
		Notifications: []Notification{
			{At: at(10), To: "backend-lead", Sink: "slack", Step: "change@raise_memory", Outcome: "sent"},
			{At: at(10), To: "backend-lead", Sink: "pagerduty", Step: "ack@raise_memory", Outcome: "sent"},
			{At: at(25), To: "backend-lead", Sink: "chat", Step: "resolve", Outcome: "refused", Error: "400 Bad Request"},
		},
		Evidence: []string{"memory p99 0.93 ≥ threshold 0.85 for 10 minutes", "3 OOM kills in the window, largest 2100 MiB used"},
		Chart: chart.Chart{
			Title: "aiprod-api · memory over incident 0.nrwotmyokd9n", Memory: mem, Threshold: 0.85, VerifyBelow: 0.80,
			Changes: []chart.Marker{Marker(raise)}, Opened: t0, Closed: at(41),
			Kills: []chart.Marker{{At: at(5), Label: "3 OOM kills on aiprod-api-00042-abc"}, {At: at(8), Label: "3 OOM kills on aiprod-api-00042-abc"}},
		},
		ChartFile: "memory.svg",
	}
	return in
}

func TestMarkdownGolden(t *testing.T) {
	golden.Check(t, "testdata/incident.md", Markdown(sample()))
}

func TestMarkdownOpenIncidentWithoutData(t *testing.T) {
	in := Incident{ID: "0.x", Service: "projects/p/locations/l/services/s", StartedAt: t0, GeneratedAt: at(30),
		Verification: &Verification{Action: "restart", Due: at(45), Below: 0.8, Outcome: "pending"}}
	got := Markdown(in)
	for _, want := range []string{"| Ended | still open |", "| Duration | 30m |", "No memory data was readable",
		"runmedic changed nothing.", "due at 2026-03-14 10:40:00 UTC, not judged yet.", "No message was sent."} {
		if !strings.Contains(got, want) {
			t.Errorf("Markdown(open incident) lacks %q:\n%s", want, got)
		}
	}
}

func TestMarkdownKeepsCellsWhole(t *testing.T) {
	got := Markdown(sample())
	if !strings.Contains(got, `flat \| no growth`) {
		t.Error("a | inside a timeline detail must be escaped, or it splits the table row")
	}
}

func TestFieldsOfTraffic(t *testing.T) {
	// A traffic change after a JSON round trip, as the state annotation returns it.
	var c snapshot.Change
	raw := `{"path":"traffic","before":[{"type":"LATEST","percent":100}],"after":[{"type":"REVISION","revision":"api-00041-old","percent":100}]}`
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	want := []Field{{Path: "traffic", Before: "latest 100%", After: "api-00041-old 100%"}}
	if diff := cmp.Diff(want, FieldsOf([]snapshot.Change{c})); diff != "" {
		t.Errorf("FieldsOf(traffic) (-want +got):\n%s", diff)
	}
}

func TestHTMLSelfContained(t *testing.T) {
	got := mustHTML(t, sample())
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url("} {
		if strings.Contains(got, bad) {
			t.Errorf("HTML holds %q: it must be self-contained and script-free", bad)
		}
	}
	for _, want := range []string{"<svg", "2Gi→4Gi", "aiprod-api-00043-xyz", "400 Bad Request", "verified"} {
		if !strings.Contains(got, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	evil := sample()
	evil.Timeline[0].Text = `<img src=x onerror=alert(1)>`
	if strings.Contains(mustHTML(t, evil), "<img") {
		t.Error("timeline text must be escaped")
	}
}

// TestHTMLInBrowser renders the page in headless Chromium and checks that the chart shows: the
// memory line's colour between the top and bottom of the change marker (the plot's height), and
// the threshold and OOM-kill colours.
func TestHTMLInBrowser(t *testing.T) {
	shot := ""
	if *shots != "" {
		shot = filepath.Join(*shots, "report.png")
	}
	img := browsertest.Screenshot(t, mustHTML(t, sample()), 1200, 1600, shot)
	change, _ := browsertest.Hex(chart.ChangeColour)
	_, top, bottom, ok := browsertest.Vertical(img, change, 12)
	if !ok {
		t.Fatal("no change marker in the screenshot: the chart did not render")
	}
	if bottom-top < 150 {
		t.Fatalf("change marker spans %d px, want the plot's height (≥150)", bottom-top)
	}
	area := image.Rect(0, top, img.Bounds().Dx(), bottom)
	for _, c := range []struct {
		name, hex string
		least     int
	}{{"memory line", chart.MemoryColour, 600}, {"threshold line", chart.ThresholdColour, 100}, {"OOM kill marker", chart.KillColour, 40}} {
		rgb, _ := browsertest.Hex(c.hex)
		n := browsertest.Count(img, area, rgb, 12)
		t.Logf("%s: %d pixels of %s in rows %d–%d", c.name, n, c.hex, top, bottom)
		if n < c.least {
			t.Errorf("%s: %d pixels of %s in the chart area (rows %d–%d), want ≥ %d", c.name, n, c.hex, top, bottom, c.least)
		}
	}
}

func mustHTML(t *testing.T, in Incident) string {
	t.Helper()
	page, err := HTML(in)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func TestMarkdownLongIncidentShowsDates(t *testing.T) {
	in := Incident{ID: "0.y", Service: "projects/p/locations/l/services/s", StartedAt: t0, GeneratedAt: t0.Add(75 * time.Hour),
		Timeline: []Entry{{At: t0.Add(74 * time.Hour), Kind: KindChange, Text: "restart applied"}}}
	got := Markdown(in)
	for _, want := range []string{"| Duration | 3d 03h |", "| Mar 17 11:55:00 | change | restart applied |"} {
		if !strings.Contains(got, want) {
			t.Errorf("Markdown(incident over days) lacks %q:\n%s", want, got)
		}
	}
}
