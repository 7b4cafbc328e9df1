package plan_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// withMemory gives the snapshot three hours of memory points, one a minute, flat at low and then
// at high for the last hour.
func withMemory(low, high float64) func(*snapshot.Snapshot) {
	return func(s *snapshot.Snapshot) {
		s.Metrics.MemoryUtilization = nil
		for i := range 180 {
			v := low
			if i >= 120 {
				v = high
			}
			s.Metrics.MemoryUtilization = append(s.Metrics.MemoryUtilization,
				snapshot.Point{At: capturedAt.Add(time.Duration(i-179) * time.Minute), Value: v})
		}
	}
}

// raisedAfterTheLastPoint is the service a moment after runmedic raised it to 4Gi: the live
// template and its new revision say 4Gi, every memory point was measured under 2Gi.
func raisedAfterTheLastPoint(s *snapshot.Snapshot) {
	s.Service.Template.Memory = "4Gi"
	s.Revisions = append(s.Revisions, snapshot.Revision{Name: "aiprod-api-00043-new", CreatedAt: capturedAt.Add(time.Minute), Ready: true, Memory: "4Gi", CPU: "1"})
	s.Service.LatestCreatedRevision, s.Service.LatestReadyRevision = "aiprod-api-00043-new", "aiprod-api-00043-new"
}

func render(t *testing.T, p plan.Plan, opts plan.TextOptions) string {
	t.Helper()
	var b strings.Builder
	if err := plan.RenderText(&b, p, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPlanForAPerson(t *testing.T) {
	escalate := decision.Decision{Action: decision.Escalate, Diagnosis: decision.InsufficientMemory, Policy: "runmedic.oom", Reason: "at the ceiling"}
	tests := []struct {
		name   string
		live   int64 // the live memory limit the signals report, MiB; 0 for 2Gi
		snap   snapshot.Snapshot
		d      decision.Decision
		opts   plan.TextOptions
		want   []string
		absent []string
	}{
		{"an applyable plan says how to apply it", 0, testSnapshot(withMemory(0.6, 0.93)), raise("4Gi", ""),
			plan.TextOptions{ApplyCommand: "runmedic apply --incident in.json --live"},
			[]string{"Plan: 1 to change.\n\nTo apply: runmedic apply --incident in.json --live"}, nil},
		{"apply itself does not say how to apply", 0, testSnapshot(withMemory(0.6, 0.93)), raise("4Gi", ""),
			plan.TextOptions{Applying: true}, []string{"Plan: 1 to change."}, []string{"To apply:"}},
		{"an escalation says who is paged when", 0, testSnapshot(withMemory(0.6, 0.93)), escalate, plan.TextOptions{},
			[]string{"Escalate: runmedic will page backend-lead@aiprod.ai at T+5m, then service-lead at T+15m, engineering-manager at T+30m"},
			[]string{"No changes. The service already matches the decision.", "To apply:"}},
		{"the links a person opens next", 0, testSnapshot(withMemory(0.6, 0.93)), raise("4Gi", ""), plan.TextOptions{},
			[]string{"incident:  https://console.cloud.google.com/monitoring/alerting/alerts/0.nrwotmyokd9n?project=aiprod-484120",
				"service:   https://console.cloud.google.com/run/detail/europe-west1/aiprod-api/metrics?project=aiprod-484120",
				"OOM logs:  https://console.cloud.google.com/logs/query;query="}, nil},
		{"a sparkline with the threshold", 0, testSnapshot(withMemory(0.5, 0.93)), raise("4Gi", ""), plan.TextOptions{},
			[]string{"Memory: p99 of the limit, 3h to 10:30 UTC, a mark per 4m\n",
				"  " + strings.Repeat("▅", 30) + strings.Repeat("█", 15) + "  now 93%, peak 93%\n",
				"  " + strings.Repeat(" ", 30) + strings.Repeat("^", 15) + "  ^ above the 85% threshold\n"}, nil},
		{"memory is told against the limit it was measured under", 4096, testSnapshot(withMemory(0.6, 0.93), raisedAfterTheLastPoint), escalate, plan.TextOptions{},
			[]string{"memory at 93% of 2Gi"}, []string{"of 4Gi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := testSignals()
			if tt.live != 0 {
				sig.MemoryLimitMiB = tt.live
			}
			p, err := plan.Build(tt.snap, sig, tt.d, testDefaults())
			if err != nil {
				t.Fatal(err)
			}
			p.Guard = plan.Verdict{Allowed: true, Mode: "enforce", Refusals: []plan.Refusal{}}
			p.Applyable = p.HasChanges()
			got := render(t, p, tt.opts)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("RenderText lacks %q:\n%s", w, got)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("RenderText has %q:\n%s", a, got)
				}
			}
		})
	}
}

func TestOOMLogsLink(t *testing.T) {
	l := plan.LinksFor(testSnapshot())
	u, err := url.Parse(l.Logs)
	if err != nil {
		t.Fatalf("logs link %q: %v", l.Logs, err)
	}
	q, ok := strings.CutPrefix(u.Path, "/logs/query;query=")
	if !ok {
		t.Fatalf("logs link %q is not a Logs Explorer query", l.Logs)
	}
	want := "resource.type=\"cloud_run_revision\"\nresource.labels.service_name=\"aiprod-api\"\ntextPayload:\"Memory limit of\""
	if q != want {
		t.Errorf("logs link query = %q, want %q", q, want)
	}
	if u.Query().Get("project") != "aiprod-484120" {
		t.Errorf("logs link project = %q, want aiprod-484120", u.Query().Get("project"))
	}
}
