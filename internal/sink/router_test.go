package sink_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/message"
	"github.com/runmedic/runmedic/internal/secret"
	"github.com/runmedic/runmedic/internal/secretmanager"
	"github.com/runmedic/runmedic/internal/secretmanagertest"
	"github.com/runmedic/runmedic/internal/sink"
	"github.com/runmedic/runmedic/internal/sinktest"
)

func TestRouterSinks(t *testing.T) {
	no := false
	r := &sink.Router{Recipients: map[string]config.Recipient{
		"a": {PagerDuty: &config.PagerDuty{RoutingKey: "env:K"}, Slack: &config.Webhook{Webhook: "env:S"}},
		"b": {PagerDuty: &config.PagerDuty{RoutingKey: "env:K", AcknowledgeOnApply: &no}, Chat: &config.Webhook{Webhook: "env:C"}},
	}}
	for _, tc := range []struct {
		to   string
		kind message.Kind
		want []sink.Kind
	}{
		{"a", message.Page, []sink.Kind{sink.PagerDuty, sink.Slack}},
		{"a", message.Acknowledge, []sink.Kind{sink.PagerDuty}},
		{"b", message.Acknowledge, nil},
		{"b", message.Resolve, []sink.Kind{sink.PagerDuty, sink.Chat}},
		{"b", message.Changed, []sink.Kind{sink.PagerDuty}},
		{"nobody", message.Page, nil},
	} {
		if got := r.Sinks(tc.to, tc.kind); !slices.Equal(got, tc.want) {
			t.Errorf("Sinks(%q, %s) = %v, want %v", tc.to, tc.kind, got, tc.want)
		}
	}
}

// TestRouterReadsEachSecretOnce sends through credentials held in Secret Manager: each is read
// once, then reused; a secret that cannot be read is an error naming it, never its value.
func TestRouterReadsEachSecretOnce(t *testing.T) {
	ctx := context.Background()
	rec := sinktest.New(t)
	fake := secretmanagertest.New(t)
	fake.AddVersion("projects/p/secrets/pd", "R0UTINGKEYfromsecretmanager00001")
	fake.AddVersion("projects/p/secrets/hook", rec.SlackWebhook("SECRETPART"))
	fake.AddVersion("projects/p/secrets/denied", "x")
	fake.Deny("projects/p/secrets/denied")
	sm, err := secretmanager.New(ctx, cloudrun.EndpointOptions(fake.Addr())...)
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	r := &sink.Router{
		Recipients: map[string]config.Recipient{
			"a": {PagerDuty: &config.PagerDuty{RoutingKey: "secret:projects/p/secrets/pd/versions/latest", EventsURL: rec.EventsURL()},
				Slack: &config.Webhook{Webhook: "secret:projects/p/secrets/hook/versions/1"}},
			"b": {Slack: &config.Webhook{Webhook: "secret:projects/p/secrets/denied/versions/latest"}},
		},
		Secrets: secret.Resolver{Secrets: sm},
	}
	in := message.Input{Kind: message.Page}
	in.Notification.Target, in.Notification.Incident, in.Notification.Severity = "projects/p/locations/l/services/s", "0.1", "Warning"
	for range 3 {
		for _, sk := range r.Sinks("a", message.Page) {
			if err := r.Send(ctx, "a", sk, in); err != nil {
				t.Fatalf("Send(a, %s) = %v", sk, err)
			}
		}
	}
	if got := fake.Accesses(); got != 2 {
		t.Errorf("%d secret reads for 6 sends, want 2", got)
	}
	if evs := rec.Events(); len(evs) != 3 || evs[0].RoutingKey != "R0UTINGKEYfromsecretmanager00001" || len(rec.Slack()) != 3 {
		t.Errorf("%d events, %d Slack messages, want 3 each with the secret's key", len(evs), len(rec.Slack()))
	}
	err = r.Send(ctx, "b", sink.Slack, in)
	if err == nil || !strings.Contains(err.Error(), "slack webhook of b: secret:projects/p/secrets/denied/versions/latest") || !strings.Contains(err.Error(), "PermissionDenied") {
		t.Errorf("Send(b) = %v, want the denied secret named", err)
	}
	if sink.IsPermanent(err) {
		t.Errorf("an unreadable secret is permanent; want it retried when the grant is fixed")
	}
}

// TestRouterRotatedSecret: a routing key rotated in Secret Manager while the old one is cached
// is refused once, read again, and the message goes out with the new key; an unchanged key that
// is refused is not sent twice.
func TestRouterRotatedSecret(t *testing.T) {
	ctx := context.Background()
	rec := sinktest.New(t)
	fake := secretmanagertest.New(t)
	fake.AddVersion("projects/p/secrets/pd", "OLDKEY")
	sm, err := secretmanager.New(ctx, cloudrun.EndpointOptions(fake.Addr())...)
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	r := &sink.Router{
		Recipients: map[string]config.Recipient{"a": {PagerDuty: &config.PagerDuty{RoutingKey: "secret:projects/p/secrets/pd/versions/latest", EventsURL: rec.EventsURL()}}},
		Secrets:    secret.Resolver{Secrets: sm},
	}
	in := message.Input{Kind: message.Page}
	in.Notification.Target, in.Notification.Incident, in.Notification.Severity = "projects/p/locations/l/services/s", "0.1", "Warning"
	if err := r.Send(ctx, "a", sink.PagerDuty, in); err != nil {
		t.Fatal(err)
	}
	fake.AddVersion("projects/p/secrets/pd", "NEWKEY")
	rec.Fail(sinktest.PagerDuty, 400, 1, "") // the old key is revoked
	if err := r.Send(ctx, "a", sink.PagerDuty, in); err != nil {
		t.Fatalf("Send after a rotation = %v, want it sent with the new key", err)
	}
	if evs := rec.Events(); len(evs) != 2 || evs[1].RoutingKey != "NEWKEY" {
		t.Errorf("events %+v, want the second with the new key", evs)
	}
	rec.Fail(sinktest.PagerDuty, 400, 1, "")
	before := rec.Attempts(sinktest.PagerDuty)
	if err := r.Send(ctx, "a", sink.PagerDuty, in); !sink.IsPermanent(err) {
		t.Errorf("Send refused with an unchanged key = %v, want permanent", err)
	}
	if got := rec.Attempts(sinktest.PagerDuty) - before; got != 1 {
		t.Errorf("%d attempts with an unchanged key, want 1", got)
	}
}
