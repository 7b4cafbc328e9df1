package message_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/message"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite golden files")

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const target = "projects/aiprod-484120/locations/europe-west1/services/aiprod-api"

// climb is three hours of memory rising from 60 % to 93 %, one point a minute.
func climb() []snapshot.Point {
	var ps []snapshot.Point
	for i := 180; i >= 0; i-- {
		v := 0.93 - float64(i)*0.33/180
		ps = append(ps, snapshot.Point{At: now.Add(-time.Duration(i) * time.Minute), Value: v})
	}
	return ps
}

func notification(action decision.Action, changes []snapshot.Change, v plan.Verdict) audit.Notification {
	d := decision.Decision{Action: action, Diagnosis: decision.InsufficientMemory, Reason: "memory p99 at 93% of 2Gi with no growth trend: the service needs more memory", Policy: "runmedic.oom"}
	p := plan.Plan{Incident: "0.nrwotmyokd9n", Target: target, Decision: d, Changes: changes, Guard: v, Applyable: v.Allowed && len(changes) > 0}
	return audit.Notification{
		Time: now, Incident: "0.nrwotmyokd9n", Target: target, Severity: "Warning", To: "backend-lead@aiprod.ai", After: "5m",
		Action: action, Diagnosis: d.Diagnosis, Reason: "page if not recovering after raise_memory: insufficient_memory, memory at 93% of 2Gi",
		Evidence:   []string{"memory p99 0.93 (threshold 0.85) for 56 minutes", "no growth trend over 3h"},
		URL:        "https://console.cloud.google.com/monitoring/alerting/incidents/0.nrwotmyokd9n?project=aiprod-484120",
		ConsoleURL: "https://console.cloud.google.com/run/detail/europe-west1/aiprod-api/metrics?project=aiprod-484120",
		Plan:       &p,
		NextSteps:  []string{"load test with realistic data sizes and set the limit from the measurement: about 256 MB per instance plus 50 MB per concurrent request"},
	}
}

var raise = []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}

func cases() map[string]message.Input {
	allowed := plan.Verdict{Allowed: true, Mode: "enforce", Refusals: []plan.Refusal{}}
	frozen := plan.Verdict{Mode: "enforce", Refusals: []plan.Refusal{{Rule: "freeze", Message: "freeze window weekend (sat, sun 00:00-24:00 Europe/Berlin) is in force"}}}
	base := message.Input{Memory: climb(), Threshold: 0.85, VerifyBelow: 0.80, Now: now}
	in := map[string]message.Input{}
	raised := base
	raised.Kind, raised.Notification, raised.Applied, raised.Revision = message.Page, notification(decision.RaiseMemory, raise, allowed), true, "aiprod-api-00042-xoz"
	raised.VerifyAt, raised.Next = now.Add(10*time.Minute), "Next: service-lead at T+15m unless memory recovers."
	in["raised"] = raised
	ceiling := base
	ceiling.Kind, ceiling.Notification = message.Page, notification(decision.Escalate, nil, allowed)
	ceiling.Next = "Next: service-lead at T+15m."
	in["ceiling"] = ceiling
	fr := base
	fr.Kind, fr.Notification, fr.Next = message.Page, notification(decision.RaiseMemory, raise, frozen), "Next: service-lead at T+15m."
	in["frozen"] = fr
	res := raised
	res.Kind = message.Resolve
	in["resolved"] = res
	return in
}

func TestGoldens(t *testing.T) {
	for name, in := range cases() {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			for _, part := range []struct {
				title string
				v     any
			}{
				{"pagerduty", message.PagerDuty(in)},
				{"slack", message.Slack(in)},
				{"chat", message.Chat(in)},
			} {
				js, err := json.MarshalIndent(part.v, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				b.WriteString("== " + part.title + "\n")
				b.Write(js)
				b.WriteString("\n")
			}
			if in.Applied {
				js, _ := json.MarshalIndent(message.Change(in), "", "  ")
				b.WriteString("== pagerduty change\n")
				b.Write(js)
				b.WriteString("\n")
			}
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/message -update)", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestContent(t *testing.T) {
	c := cases()
	ev := message.PagerDuty(c["raised"])
	if ev.DedupKey != message.PagerDuty(c["ceiling"]).DedupKey || ev.DedupKey != "runmedic/"+target+"/0.nrwotmyokd9n" {
		t.Errorf("dedup_key %q differs between steps of one incident", ev.DedupKey)
	}
	if got := message.PagerDuty(c["resolved"]); got.Action != "resolve" || got.Payload != nil || got.DedupKey != ev.DedupKey {
		t.Errorf("resolve = %+v, want a bare resolve of the same dedup_key", got)
	}
	js, _ := json.Marshal(message.Slack(c["raised"]))
	for _, want := range []string{"memory 2Gi → 4Gi (revision aiprod-api-00042-xoz)", "Verifying at 09:40 UTC", "service-lead at T+15m",
		"gcloud run services update aiprod-api --project=aiprod-484120 --region=europe-west1 --memory=2Gi", "logs/query", "now 93%"} {
		if !strings.Contains(string(js), want) {
			t.Errorf("Slack message lacks %q", want)
		}
	}
	if got := message.Chat(c["frozen"]); !strings.HasPrefix(got.Text, "Frozen:") || got.Thread.ThreadKey != message.Chat(c["raised"]).Thread.ThreadKey {
		t.Errorf("frozen chat = %q thread %q", got.Text, got.Thread.ThreadKey)
	}
	long := c["ceiling"]
	long.Notification.Plan.Decision.Reason = strings.Repeat("é", 2000)
	if s := message.PagerDuty(long).Payload.Summary; len(s) > message.MaxSummary || !utf8.ValidString(s) {
		t.Errorf("summary of %d bytes (valid UTF-8 %v), want ≤ %d", len(s), utf8.ValidString(s), message.MaxSummary)
	}
}

func TestSparkline(t *testing.T) {
	got := message.Sparkline([]snapshot.Point{{At: now.Add(-150 * time.Minute), Value: 0.5}, {At: now, Value: 0.9}}, 0.85, now, 3*time.Hour, 6)
	want := []string{" ▅   █  now 90%, peak 90%", "     ▔  ▔ above the 85% threshold"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sparkline (-want +got):\n%s", diff)
	}
	if got := message.Sparkline(nil, 0.85, now, 3*time.Hour, 6); len(got) != 1 || got[0] != "no memory data in the last 3h" {
		t.Errorf("Sparkline(nil) = %q", got)
	}
}

func BenchmarkRender(b *testing.B) {
	in := cases()["raised"]
	for b.Loop() {
		message.PagerDuty(in)
		message.Change(in)
		message.Slack(in)
		message.Chat(in)
	}
}

func TestSlackTextReadsWhatWasSent(t *testing.T) {
	js, err := json.Marshal(message.Slack(cases()["raised"]))
	if err != nil {
		t.Fatal(err)
	}
	got, err := message.SlackTextJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"runmedic acted on aiprod-api (raise_memory): insufficient memory\n*What happened*\n", "*Undo*\n`gcloud run services update", "[links] Incident <https://"} {
		if !strings.Contains(got, want) {
			t.Errorf("SlackTextJSON lacks %q:\n%s", want, got)
		}
	}
	if c := message.ChatCardText(message.Chat(cases()["raised"])); !strings.Contains(c, "*What runmedic did*\nChanged memory 2Gi → 4Gi") {
		t.Errorf("ChatCardText:\n%s", c)
	}
}
