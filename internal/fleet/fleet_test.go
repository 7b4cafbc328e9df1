package fleet_test

import (
	"context"
	"errors"
	"flag"
	"image"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/browsertest"
	"github.com/runmedic/runmedic/internal/chart"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/fleet"
	"github.com/runmedic/runmedic/internal/fleettest"
	"github.com/runmedic/runmedic/internal/freeze"
	"github.com/runmedic/runmedic/internal/golden"
	"github.com/runmedic/runmedic/internal/logs"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/report"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/status"
)

var shots = flag.String("shots", "", "keep the screenshots in this directory")

var now = time.Date(2026, 3, 14, 11, 0, 0, 0, time.UTC)

// reader connects the real clients to the fleet's fakes.
func reader(t testing.TB, f *fleettest.Fleet) fleet.Reader {
	t.Helper()
	ctx := context.Background()
	run, err := cloudrun.New(ctx, f.Run.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	mon, err := monitoring.New(ctx, f.Monitoring.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mon.Close() })
	lg, err := logs.New(ctx, f.Logging.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	base, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(fleettest.Config), base)
	if err != nil {
		t.Fatal(err)
	}
	return fleet.Reader{Run: run, Metrics: mon, Logs: lg, Records: fleet.Annotation{}, Config: cfg}
}

func rows(t *testing.T, r fleet.Reader, projects ...string) []status.Row {
	t.Helper()
	return status.Collect(context.Background(), fleet.Targets(r.Config, projects), 2,
		func(ctx context.Context, tg snapshot.Target) (status.Row, error) { return r.Row(ctx, tg, now) })
}

// TestStatusOfThreeServices reads the fleet through the real clients: a healthy service, one
// raised and awaiting verification with a refusing sink, and one pinned after a rollback.
func TestStatusOfThreeServices(t *testing.T) {
	f := fleettest.Start(t, now)
	got := rows(t, reader(t, f))
	if len(got) != 3 {
		t.Fatalf("status has %d rows, want 3", len(got))
	}
	byName := map[string]status.Row{}
	for _, r := range got {
		if r.Error != "" {
			t.Fatalf("row %s: %s", r.Service, r.Error)
		}
		byName[r.Name()] = r
	}
	web, api, worker := byName["aiprod-web"], byName["aiprod-api"], byName["aiprod-worker"]
	for _, c := range []struct {
		row   status.Row
		state string
	}{{web, "ok"}, {api, "verifying"}, {worker, "pinned"}} {
		if c.row.State() != c.state {
			t.Errorf("%s state = %q, want %q", c.row.Name(), c.row.State(), c.state)
		}
	}
	if api.MemoryLimit != "4Gi" || api.MemoryNow < 0.5 || api.MemoryNow > 0.56 {
		t.Errorf("aiprod-api memory = %s at %.2f, want 4Gi at about 0.53", api.MemoryLimit, api.MemoryNow)
	}
	if api.Pending == nil || !api.Pending.Due.Equal(now.Add(4*time.Minute)) {
		t.Errorf("aiprod-api pending = %+v, want verification due at %v", api.Pending, now.Add(4*time.Minute))
	}
	if len(api.Watching) != 1 || api.Watching[0].Incident != fleettest.Incident {
		t.Errorf("aiprod-api watching = %+v, want %s", api.Watching, fleettest.Incident)
	}
	if api.BudgetLeft != 2 || web.BudgetLeft != 3 {
		t.Errorf("budget left = api %d, web %d; want 2 and 3 (the web raise is two days old)", api.BudgetLeft, web.BudgetLeft)
	}
	if len(api.Failing) != 1 || !strings.Contains(api.Failing[0], "chat to backend-lead refused") {
		t.Errorf("aiprod-api failing sinks = %q, want the chat refusal", api.Failing)
	}
	if worker.Pin == nil || worker.Pin.Revision != fleettest.WorkerOld || worker.Mode != config.ModeShadow {
		t.Errorf("aiprod-worker = pin %+v, mode %q; want pinned to %s in shadow", worker.Pin, worker.Mode, fleettest.WorkerOld)
	}
	if !strings.Contains(worker.Spark, " ") || strings.TrimSpace(web.Spark) != web.Spark {
		t.Errorf("sparklines: worker %q must show its gap, web %q must be whole", worker.Spark, web.Spark)
	}
	golden.Check(t, "testdata/status.txt", status.Text(got, now))
	js, err := status.JSON(got, now)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/status.json", string(js)+"\n")

	if only := rows(t, reader(t, f), "aiprod-batch-77"); len(only) != 1 || only[0].Name() != "aiprod-worker" {
		t.Errorf("status --project aiprod-batch-77 = %d rows, want aiprod-worker alone", len(only))
	}
}

// TestStatusHoldsAndErrors checks a freeze window and a service that cannot be read: the others
// still show.
func TestStatusHoldsAndErrors(t *testing.T) {
	f := fleettest.Start(t, now)
	r := reader(t, f)
	r.Config.Freeze = []config.FreezeWindow{{Name: "pi-day", Start: "2026-03-14", End: "2026-03-14"}}
	r.Config.Services = append(r.Config.Services, config.ServiceRule{Project: "aiprod-484120", Location: "europe-west1", Service: "gone"})
	got := rows(t, r)
	if len(got) != 4 {
		t.Fatalf("status has %d rows, want 4", len(got))
	}
	for _, row := range got {
		switch {
		case row.Name() == "gone":
			if row.State() != "error" || !strings.Contains(row.Error, "NotFound") {
				t.Errorf("missing service row = %q %q, want an error saying NotFound", row.State(), row.Error)
			}
		case row.State() != "held" || !strings.Contains(row.Hold, "pi-day"):
			t.Errorf("%s = %q hold %q, want held by pi-day", row.Name(), row.State(), row.Hold)
		}
	}
}

// TestFleetPageInBrowser renders `status --html` in headless Chromium and checks a chart shows in
// each of the three cards (the grid puts them side by side at 1200 px).
func TestFleetPageInBrowser(t *testing.T) {
	f := fleettest.Start(t, now)
	page, err := status.HTML(rows(t, reader(t, f)), now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "src=") || strings.Contains(page, "href=") {
		t.Fatal("the fleet page must be self-contained and script-free")
	}
	shot := ""
	if *shots != "" {
		shot = filepath.Join(*shots, "status.png")
	}
	img := browsertest.Screenshot(t, page, 1200, 1600, shot)
	blue, _ := browsertest.Hex(chart.MemoryColour)
	red, _ := browsertest.Hex(chart.ThresholdColour)
	w := img.Bounds().Dx()
	for i := range 3 {
		col := image.Rect(i*w/3, 0, (i+1)*w/3, 700)
		n, th := browsertest.Count(img, col, blue, 12), browsertest.Count(img, col, red, 12)
		t.Logf("card %d: %d memory pixels, %d threshold pixels", i+1, n, th)
		if n < 150 || th < 100 {
			t.Errorf("card %d shows %d memory-line and %d threshold pixels, want ≥ 150 and ≥ 100: its chart did not render", i+1, n, th)
		}
	}
}

// TestIncidentReport writes up the incident on aiprod-api from the fakes and the state.
func TestIncidentReport(t *testing.T) {
	f := fleettest.Start(t, now)
	r := reader(t, f)
	in, err := r.Incident(context.Background(), fleettest.API, fleettest.Incident, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Changes) != 1 || in.Changes[0].Revision != fleettest.APIRaised || in.Verification == nil || in.Verification.Outcome != "pending" {
		t.Errorf("changes %+v, verification %+v; want the raise to %s, verification pending", in.Changes, in.Verification, fleettest.APIRaised)
	}
	if len(in.Chart.Kills) != 2 || len(in.Chart.Changes) != 1 || in.Chart.Changes[0].Label != "2Gi→4Gi" || len(in.Chart.Memory) == 0 {
		t.Errorf("chart has %d kills, changes %+v, %d points; want 2 kills (first, last), 2Gi→4Gi, memory", len(in.Chart.Kills), in.Chart.Changes, len(in.Chart.Memory))
	}
	golden.Check(t, "testdata/incident.md", report.Markdown(in))

	_, err = r.Incident(context.Background(), fleettest.Web, fleettest.Incident, nil, now)
	if err == nil || !strings.Contains(err.Error(), "no record of the incident") {
		t.Errorf("Incident on a service without it = %v, want no record", err)
	}
}

// TestStatusShowsSnoozeOnWatchedIncident: a Monitoring snooze on the alert policy of an incident
// runmedic watches holds its changes, and status says so; an unreadable snooze list holds too.
func TestStatusShowsSnoozeOnWatchedIncident(t *testing.T) {
	f := fleettest.Start(t, now)
	r := reader(t, f)
	r.Snoozes = func(_ context.Context, project string, at time.Time) ([]freeze.Snooze, error) {
		return []freeze.Snooze{{Name: "projects/" + project + "/snoozes/1", DisplayName: "deploy window",
			Policies: []string{"projects/aiprod-484120/alertPolicies/1234"}, Start: at.Add(-time.Hour), End: at.Add(time.Hour)}}, nil
	}
	row, err := r.Row(context.Background(), fleettest.API, now)
	if err != nil {
		t.Fatal(err)
	}
	if row.State() != "held" || !strings.Contains(row.Hold, `snooze "deploy window"`) {
		t.Errorf("aiprod-api = %q hold %q, want held by the snooze", row.State(), row.Hold)
	}
	r.Snoozes = func(context.Context, string, time.Time) ([]freeze.Snooze, error) {
		return nil, errors.New("PermissionDenied")
	}
	if row, _ := r.Row(context.Background(), fleettest.API, now); !strings.Contains(row.Hold, "snoozes unreadable") {
		t.Errorf("hold with unreadable snoozes = %q, want it said", row.Hold)
	}
	if row, _ := r.Row(context.Background(), fleettest.Web, now); row.Hold != "" {
		t.Errorf("aiprod-web watches nothing, yet hold = %q", row.Hold)
	}
}
