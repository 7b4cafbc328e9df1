package remediate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/message"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/secret"
	"github.com/runmedic/runmedic/internal/sink"
	"github.com/runmedic/runmedic/internal/sinktest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// peopleConfig routes the whole ladder: the backend lead to all three sinks (acknowledging as
// ack says), the service lead to Slack, the manager to PagerDuty.
func peopleConfig(ack string, extra string) []byte {
	return []byte(`
defaults:
  escalation:
    - {after: 5m,  notify: backend-lead@aiprod.ai}
    - {after: 15m, notify: service-lead}
    - {after: 30m, notify: engineering-manager}
recipients:
  backend-lead@aiprod.ai:
    pagerduty: {routing_key: "env:PD_BACKEND", events_url: "env:PD_URL", acknowledge_on_apply: ` + ack + `}
    slack: {webhook: "env:SLACK_ONCALL"}
    chat: {webhook: "env:CHAT_ONCALL"}
  service-lead:
    slack: {webhook: "env:SLACK_SERVICE"}
  engineering-manager:
    pagerduty: {routing_key: "env:PD_MANAGER", events_url: "env:PD_URL"}
` + extra)
}

// withPeople routes e's remediator to a fresh recorder, through the real clients.
func withPeople(e *env) *sinktest.Recorder {
	rec := sinktest.New(e.t)
	vars := map[string]string{
		"PD_BACKEND": "backend-routing-key", "PD_MANAGER": "manager-routing-key", "PD_URL": rec.EventsURL(),
		"SLACK_ONCALL": rec.SlackWebhook("oncall"), "SLACK_SERVICE": rec.SlackWebhook("service"),
		"CHAT_ONCALL": rec.ChatWebhook("oncall"),
	}
	e.r.People = &sink.Router{
		Recipients: e.cfg.Recipients,
		Secrets:    secret.Resolver{Getenv: func(k string) string { return vars[k] }},
		Sender:     &sink.Sender{Backoff: time.Millisecond},
	}
	return rec
}

func slackPaths(rec *sinktest.Recorder) []string {
	var out []string
	for _, m := range rec.Slack() {
		out = append(out, m.Path[strings.LastIndex(m.Path, "/")+1:]+" "+m.Text[:strings.Index(m.Text, " ")])
	}
	return out
}

// TestPeopleLadder follows an escalated incident through its ladder: each recipient's sinks get
// their step once, however many ticks see it due, and every trigger lands on one dedup key per
// routing key.
func TestPeopleLadder(t *testing.T) {
	e := newEnv(t, "memory-at-ceiling", peopleConfig("true", ""))
	rec := withPeople(e)
	for range 3 {
		if _, err := e.handle(); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.Count("trigger"); got != 1 || len(rec.Slack()) != 1 || len(rec.Chat()) != 1 {
		t.Fatalf("at T+0: %d triggers, Slack %v, %d Chat cards; want the backend lead once on each", got, slackPaths(rec), len(rec.Chat()))
	}
	for _, d := range []time.Duration{10 * time.Minute, 16 * time.Minute, 17 * time.Minute, 31 * time.Minute, 35 * time.Minute} {
		e.tick(d, 0.93)
	}
	if got, want := strings.Join(slackPaths(rec), ","), "oncall Escalated,service Escalated"; got != want {
		t.Errorf("Slack messages %q, want %q", got, want)
	}
	evs := rec.Events()
	if len(evs) != 2 || evs[0].RoutingKey != "backend-routing-key" || evs[1].RoutingKey != "manager-routing-key" || evs[0].DedupKey != evs[1].DedupKey {
		t.Errorf("PagerDuty events %+v, want the backend lead's then the manager's trigger on one dedup key", evs)
	}
	// A close resolves every page that reached someone, once.
	e.alert.Incident.State = snapshot.StateClosed
	for range 2 {
		if _, err := e.handle(); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.Count("resolve"); got != 2 {
		t.Errorf("%d resolves after the close, want 2 (one per routing key)", got)
	}
	if got := strings.Join(slackPaths(rec), ","); got != "oncall Escalated,service Escalated,oncall Resolved,service Resolved" {
		t.Errorf("Slack messages after the close %q, want a resolved message to each channel paged", got)
	}
}

// TestPeopleAcknowledgeOptional: a freeze pages instead of raising; once it ends the raise lands,
// the page is acknowledged only when acknowledge_on_apply is true, and a change event is sent
// either way.
func TestPeopleAcknowledgeOptional(t *testing.T) {
	for _, ack := range []string{"true", "false"} {
		t.Run("acknowledge_on_apply="+ack, func(t *testing.T) {
			today := time.Now().UTC().Format(time.DateOnly)
			e := newEnv(t, "insufficient-memory", peopleConfig(ack, "freeze: [{start: \""+today+"\", end: \""+today+"\"}]\n"))
			rec := withPeople(e)
			ev, err := e.handle()
			if err != nil || ev.Applied || ev.Outcome != audit.Refused {
				t.Fatalf("under the freeze: %s applied %v, %v; want refused", ev.Outcome, ev.Applied, err)
			}
			if rec.Count("trigger") != 1 {
				t.Fatalf("under the freeze: %d triggers, want 1", rec.Count("trigger"))
			}
			e.r.Config.Freeze = nil
			e.at(time.Minute)
			ev, err = e.handle()
			if err != nil || !ev.Applied {
				t.Fatalf("after the freeze: %s, %v; want applied", ev.Outcome, err)
			}
			if _, err := e.handle(); err != nil { // a redelivery sends nothing again
				t.Fatal(err)
			}
			want := 0
			if ack == "true" {
				want = 1
			}
			if got := rec.Count("acknowledge"); got != want {
				t.Errorf("%d acknowledges, want %d", got, want)
			}
			if got := len(rec.Changes()); got != 2 {
				t.Errorf("%d change events, want one to each PagerDuty recipient (2)", got)
			}
		})
	}
}

// TestPeopleFailingSinkRetriedNextRun: a sink that keeps failing within a delivery is tried again
// by the next one, and the remediation is not failed.
func TestPeopleFailingSinkRetriedNextRun(t *testing.T) {
	e := newEnv(t, "memory-at-ceiling", peopleConfig("true", ""))
	rec := withPeople(e)
	rec.Fail(sinktest.Chat, 503, 5, "") // the Sender tries 5 times
	ev, err := e.handle()
	if err != nil {
		t.Fatalf("a failing sink failed the run: %v", err)
	}
	var failed []audit.Delivery
	for _, d := range ev.Deliveries {
		if d.Outcome == audit.DeliveryFailed {
			failed = append(failed, d)
		}
	}
	if len(failed) != 1 || failed[0].Sink != "chat" || len(rec.Chat()) != 0 {
		t.Fatalf("deliveries %+v, want the Chat card failed", ev.Deliveries)
	}
	if _, err := e.handle(); err != nil {
		t.Fatal(err)
	}
	if len(rec.Chat()) != 1 || rec.Count("trigger") != 1 || len(rec.Slack()) != 1 {
		t.Errorf("after the next run: %d Chat cards, %d triggers, %d Slack; want 1 each", len(rec.Chat()), rec.Count("trigger"), len(rec.Slack()))
	}
}

// deployDuring is a People that lets a deploy land on the service while the first message goes
// out, as a concurrent `gcloud run deploy` would.
type deployDuring struct {
	remediate.People
	e    *env
	done bool
}

func (d *deployDuring) Send(ctx context.Context, to string, sk sink.Kind, in message.Input) error {
	if !d.done {
		d.done = true
		if err := d.e.run.Modify(d.e.name(), func(svc *runpb.Service) {
			svc.Labels = map[string]string{"deployed-by": "someone"}
		}); err != nil {
			d.e.t.Fatal(err)
		}
	}
	return d.People.Send(ctx, to, sk, in)
}

// TestPeopleRecordSurvivesAConflict: the service changes while the page goes out, so the state
// write after it meets a new etag; the record of what was sent is merged onto the service as it
// now is, and the next delivery sends nothing again.
func TestPeopleRecordSurvivesAConflict(t *testing.T) {
	e := newEnv(t, "memory-at-ceiling", peopleConfig("true", ""))
	rec := withPeople(e)
	e.r.People = &deployDuring{People: e.r.People, e: e}
	if _, err := e.handle(); err != nil {
		t.Fatal(err)
	}
	if got := e.service().GetLabels()["deployed-by"]; got != "someone" {
		t.Fatalf("the deploy was lost: labels %v", e.service().GetLabels())
	}
	if got := len(e.state().Deliveries); got != 3 {
		t.Fatalf("%d deliveries recorded after the conflict, want 3", got)
	}
	if _, err := e.handle(); err != nil {
		t.Fatal(err)
	}
	if rec.Count("trigger") != 1 || len(rec.Slack()) != 1 || len(rec.Chat()) != 1 {
		t.Errorf("after a redelivery: %d triggers, %d Slack, %d Chat; want 1 each", rec.Count("trigger"), len(rec.Slack()), len(rec.Chat()))
	}
}

// TestPeopleSlowSinkKeepsTheRun: a sink that keeps asking to be retried in a second does not eat
// the delivery's deadline: the sinks get a third of it, the run ends in time with its audit event
// published, and the message waits for the next reconcile.
func TestPeopleSlowSinkKeepsTheRun(t *testing.T) {
	e := newEnv(t, "memory-at-ceiling", peopleConfig("true", ""))
	rec := withPeople(e)
	rec.Fail(sinktest.Slack, 429, 10, "1")
	ctx, cancel := context.WithTimeout(e.ctx, 6*time.Second)
	defer cancel()
	start := time.Now()
	ev, err := e.r.Handle(ctx, e.alert)
	if err != nil {
		t.Fatalf("Handle = %v", err)
	}
	if d := time.Since(start); d > 3500*time.Millisecond {
		t.Errorf("Handle took %s with a 6 s deadline, want at most a third of it for the sinks", d)
	}
	if len(e.audit.Events()) != 1 || ev.Outcome != audit.Escalated {
		t.Errorf("audit events %d, outcome %s; want the escalation published", len(e.audit.Events()), ev.Outcome)
	}
	if rec.Count("trigger") != 1 || len(rec.Slack()) != 0 {
		t.Errorf("%d triggers, %d Slack messages; want PagerDuty paged and Slack left for later", rec.Count("trigger"), len(rec.Slack()))
	}
}
