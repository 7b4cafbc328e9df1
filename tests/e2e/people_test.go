package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/secretmanagertest"
	"github.com/runmedic/runmedic/internal/sinktest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// routing is the recipients block the people tests deploy: the backend lead on PagerDuty (its
// routing key in Secret Manager, the events URL in the environment), Slack and Chat; the rest
// of the ladder on Slack channels of their own.
const routing = `
defaults:
  escalation:
    - {after: 5m,  notify: backend-lead@aiprod.ai}
    - {after: 15m, notify: service-lead}
    - {after: 30m, notify: engineering-manager}
recipients:
  backend-lead@aiprod.ai:
    pagerduty: {routing_key: "secret:projects/aiprod-484120/secrets/pd-backend/versions/latest", events_url: "env:PD_EVENTS_URL"}
    slack: {webhook: "env:SLACK_ONCALL"}
    chat: {webhook: "secret:projects/aiprod-484120/secrets/chat-oncall/versions/latest"}
  service-lead:
    slack: {webhook: "env:SLACK_SERVICE"}
  engineering-manager:
    slack: {webhook: "env:SLACK_MANAGER"}
`

// routingKey is the backend lead's PagerDuty routing key, as Secret Manager holds it.
const routingKey = "R0UTINGKEYe2e0123456789abcdef012"

// reachPeople routes the world's function to a recorder through the same wiring as the deployed
// function (clients.People), with extra appended to the routing config, and returns the
// recorder. It must run before the first publish.
func (w *world) reachPeople(t *testing.T, extra string) *sinktest.Recorder {
	t.Helper()
	rec := sinktest.New(t)
	sm := secretmanagertest.New(t)
	sm.AddVersion("projects/aiprod-484120/secrets/pd-backend", "an old key")
	sm.AddVersion("projects/aiprod-484120/secrets/pd-backend", routingKey)
	sm.AddVersion("projects/aiprod-484120/secrets/chat-oncall", rec.ChatWebhook("oncall"))
	env := map[string]string{
		"PD_EVENTS_URL":                  rec.EventsURL(),
		"SLACK_ONCALL":                   rec.SlackWebhook("oncall"),
		"SLACK_SERVICE":                  rec.SlackWebhook("service"),
		"SLACK_MANAGER":                  rec.SlackWebhook("manager"),
		clients.EnvSecretManagerEndpoint: sm.Addr(),
	}
	h := w.route.handler.(*function.Handler)
	cfg, err := config.Parse([]byte(routing+extra), h.Remediator.Config)
	if err != nil {
		t.Fatal(err)
	}
	people, closeFn, err := clients.People(context.Background(), cfg, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeFn)
	h.Remediator.Config, h.Remediator.People = cfg, people
	return rec
}

// slackTo are the Slack messages posted to channel.
func slackTo(rec *sinktest.Recorder, channel string) []sinktest.Message {
	var out []sinktest.Message
	for _, m := range rec.Slack() {
		if strings.HasSuffix(m.Path, "/"+channel) {
			out = append(out, m)
		}
	}
	return out
}

// errorLines are the function's log lines at severity ERROR.
func (w *world) errorLines() []string {
	var out []string
	for _, l := range w.log.lines() {
		if strings.Contains(l, `"severity":"ERROR"`) {
			out = append(out, l)
		}
	}
	return out
}

// TestPeopleOnceAtCeiling delivers an incident at its memory ceiling five times: the backend
// lead's step is due, and reaches PagerDuty, Slack and Chat exactly once each.
func TestPeopleOnceAtCeiling(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "memory-at-ceiling")
	rec := w.reachPeople(t, "")
	before := memoryOf(w.run.Service(w.service()))
	for range 5 {
		w.publish(w.incident)
	}
	w.waitDeliveries(5)
	w.quiet(time.Second)

	if got := rec.Count("trigger"); got != 1 || len(rec.Events()) != 1 {
		t.Errorf("PagerDuty events = %d (%d triggers), want exactly 1 trigger", len(rec.Events()), got)
	}
	if got := len(slackTo(rec, "oncall")); got != 1 {
		t.Errorf("Slack messages to the on-call channel = %d, want 1", got)
	}
	if got := len(rec.Chat()); got != 1 {
		t.Errorf("Chat cards = %d, want 1", got)
	}
	if n := len(slackTo(rec, "service")) + len(slackTo(rec, "manager")); n != 0 {
		t.Errorf("%d messages to later steps of the ladder, want none yet", n)
	}
	if evs := rec.Events(); len(evs) == 1 {
		e := evs[0]
		if e.RoutingKey != routingKey || e.DedupKey != "runmedic/"+w.service()+"/"+w.snap.Incident.ID ||
			e.Payload.Severity != "warning" || !strings.Contains(e.Payload.Summary, "Escalated") {
			t.Errorf("trigger = %+v, want the latest routing key, the incident's dedup key and an escalation summary", e)
		}
	}
	if c := rec.Chat(); len(c) == 1 && c[0].ThreadKey == "" {
		t.Errorf("Chat card without a thread key")
	}
	if got := memoryOf(w.run.Service(w.service())); got != before || len(rec.Changes()) != 0 {
		t.Errorf("memory %s -> %s with %d change events, want no change at the ceiling", before, got, len(rec.Changes()))
	}
}

// TestPeopleFreezeThenVerifiedRaiseResolves: under a freeze the raise is held and the backend
// lead is paged instead; once the freeze ends the raise lands, the page is acknowledged and a
// change event is sent, and the verify tick that finds the raise held resolves the page.
func TestPeopleFreezeThenVerifiedRaiseResolves(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	start := time.Now().UTC()
	today := start.Format(time.DateOnly)
	rec := w.reachPeople(t, "freeze:\n  - {name: launch-day, start: \""+today+"\", end: \""+today+"\"}\n")
	clk := &clock{t: start}
	h := w.route.handler.(*function.Handler)
	h.Now, h.Remediator.Now = clk.Now, clk.Now

	w.publish(w.incident)
	evs := w.auditEvents(func(evs []audit.Event) bool { return len(evs) > 0 })
	w.waitDeliveries(1)
	if got := memoryOf(w.run.Service(w.service())); got != "2Gi" {
		t.Fatalf("memory under the freeze = %s, want 2Gi kept", got)
	}
	if len(evs) != 1 || evs[0].Outcome != audit.Refused || evs[0].Guard == nil || len(evs[0].Guard.Refusals) == 0 || evs[0].Guard.Refusals[0].Rule != "freeze" {
		t.Fatalf("audit events under the freeze = %+v, want one refused by the freeze", evs)
	}
	if rec.Count("trigger") != 1 || len(slackTo(rec, "oncall")) != 1 {
		t.Fatalf("under the freeze: %d triggers, %d Slack messages, want 1 and 1", rec.Count("trigger"), len(slackTo(rec, "oncall")))
	}
	if s := slackTo(rec, "oncall")[0]; !strings.HasPrefix(s.Text, "Frozen") || !strings.Contains(string(s.Raw), "launch-day") {
		t.Errorf("Slack message under the freeze = %s, want it to say the freeze held the change", s.Raw)
	}

	h.Remediator.Config.Freeze = nil // the freeze ends
	w.publish(w.incident)
	w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Applied) > 0 })
	w.waitDeliveries(2)
	if got := memoryOf(w.run.Service(w.service())); got != "4Gi" {
		t.Fatalf("memory after the freeze = %s, want 4Gi", got)
	}
	if rec.Count("acknowledge") != 1 || len(rec.Changes()) != 1 {
		t.Fatalf("after the raise: %d acknowledges, %d change events, want 1 and 1", rec.Count("acknowledge"), len(rec.Changes()))
	}
	if c := rec.Changes()[0]; !strings.Contains(c.Payload.Summary, "memory 2Gi → 4Gi") {
		t.Errorf("change event summary %q, want the raise", c.Payload.Summary)
	}

	mem := append([]snapshot.Point(nil), w.snap.Metrics.MemoryUtilization...)
	for m := 1; m <= 11; m++ {
		mem = append(mem, snapshot.Point{At: start.Truncate(time.Minute).Add(time.Duration(m) * time.Minute), Value: 0.45})
	}
	w.mon.SetSeries(monitoring.MetricMemory, w.snap.Target, mem, nil)
	clk.Set(start.Add(11 * time.Minute))
	if _, err := emu.Publish(context.Background(), w.alertTopic, []byte("{}"), map[string]string{function.KindAttribute: function.KindVerifyTick}); err != nil {
		t.Fatal(err)
	}
	w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Verified) > 0 })
	w.waitDeliveries(3)
	if rec.Count("resolve") != 1 {
		t.Fatalf("PagerDuty events after the verify tick = %d resolves, want 1", rec.Count("resolve"))
	}
	ev := rec.Events()
	if last := ev[len(ev)-1]; last.Action != "resolve" || last.DedupKey != ev[0].DedupKey {
		t.Errorf("last event %+v, want the resolve of the first trigger's dedup key", last)
	}
	if got := slackTo(rec, "oncall"); len(got) != 2 || !strings.HasPrefix(got[1].Text, "Resolved") {
		t.Errorf("Slack messages = %d, want the page and a resolved message", len(got))
	}
}

// TestPeopleRetriedThenOnce: Slack answers 500 three times; the message is retried inside the
// delivery and lands once, and later deliveries do not send it again.
func TestPeopleRetriedThenOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "memory-at-ceiling")
	rec := w.reachPeople(t, "")
	rec.Fail(sinktest.Slack, 500, 3, "")
	w.publish(w.incident)
	w.waitDeliveries(1)
	w.publish(w.incident)
	w.publish(w.incident)
	w.waitDeliveries(3)
	if got, att := len(slackTo(rec, "oncall")), rec.Attempts(sinktest.Slack); got != 1 || att != 4 {
		t.Errorf("Slack: %d messages in %d attempts, want 1 in 4", got, att)
	}
	if rec.Count("trigger") != 1 || len(rec.Chat()) != 1 {
		t.Errorf("%d triggers, %d Chat cards, want 1 and 1", rec.Count("trigger"), len(rec.Chat()))
	}
}

// TestPeopleRefusedRemediationLands: PagerDuty refuses the change event with a 400. The raise
// lands all the same, the refusal is logged once at ERROR and listed in the audit event, and no
// later delivery sends it again.
func TestPeopleRefusedRemediationLands(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	rec := w.reachPeople(t, "")
	rec.Fail(sinktest.PagerDuty, 400, 1, "")
	w.publish(w.incident)
	evs := w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Applied) > 0 })
	w.waitDeliveries(1)
	if got := memoryOf(w.run.Service(w.service())); got != "4Gi" {
		t.Fatalf("memory = %s, want 4Gi: a refusing sink must not hold the raise", got)
	}
	w.checkOneAction(t, "raise_memory")
	var refused []audit.Delivery
	for _, e := range evs {
		for _, d := range e.Deliveries {
			if d.Outcome == audit.DeliveryRefused {
				refused = append(refused, d)
			}
		}
	}
	if len(refused) != 1 || refused[0].Sink != "pagerduty" || refused[0].Step != "change@raise_memory" || !strings.Contains(refused[0].Error, "HTTP 400") {
		t.Errorf("refused deliveries in the audit events = %+v, want the change event", refused)
	}
	w.publish(w.incident)
	w.publish(w.incident)
	w.waitDeliveries(3)
	if got := rec.Attempts(sinktest.PagerDuty); got != 1 {
		t.Errorf("PagerDuty attempts = %d, want 1: a refusal is not retried", got)
	}
	if lines := w.errorLines(); len(lines) != 1 || !strings.Contains(lines[0], "change@raise_memory") || strings.Contains(lines[0], routingKey) {
		t.Errorf("ERROR lines = %q, want one naming the change event and no key", lines)
	}
}
