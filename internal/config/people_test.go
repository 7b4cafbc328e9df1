package config_test

import (
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/config"
)

const routed = `
defaults:
  escalation:
    - {after: 5m, notify: backend-lead@aiprod.ai}
recipients:
  backend-lead@aiprod.ai:
    pagerduty: {routing_key: "secret:projects/P/secrets/pd-backend/versions/latest", events_url: "env:PD_URL", acknowledge_on_apply: false}
    slack: {webhook: "env:RUNMEDIC_SLACK_ONCALL"}
    chat: {webhook: "secret:projects/P/secrets/chat-oncall/versions/3"}
freeze:
  - {name: weekend, weekdays: [sat, sun], from: "00:00", to: "24:00", tz: Europe/Berlin}
  - {name: year-end, start: "2026-12-24", end: "2027-01-01"}
`

func TestParseRecipients(t *testing.T) {
	c, err := config.Parse([]byte(routed), mustDefault(t))
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	r := c.Recipients["backend-lead@aiprod.ai"]
	if r.PagerDuty == nil || r.PagerDuty.Acknowledges() || r.Slack == nil || r.Chat == nil {
		t.Errorf("recipient = %+v, want pagerduty (no acknowledge), slack and chat", r)
	}
	if len(c.Freeze) != 2 || c.Freeze[0].TZ != "Europe/Berlin" {
		t.Errorf("freeze = %+v", c.Freeze)
	}
}

func TestParsePeopleErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"literal routing key", "recipients: {a: {pagerduty: {routing_key: R0UTINGSECRET}}}\ndefaults: {escalation: [{after: 5m, notify: a}]}",
			"recipients.a.pagerduty.routing_key: a literal credential is not allowed"},
		{"literal webhook", "recipients: {a: {slack: {webhook: 'https://hooks.slack.com/services/T0/B0/SECRETPART'}}}\ndefaults: {escalation: [{after: 5m, notify: a}]}",
			"recipients.a.slack.webhook: a literal credential is not allowed"},
		{"bad secret name", "recipients: {a: {chat: {webhook: 'secret:projects/P/secrets/S'}}}\ndefaults: {escalation: [{after: 5m, notify: a}]}",
			"recipients.a.chat.webhook: secret reference"},
		{"unknown recipient", "recipients: {a: {slack: {webhook: 'env:X'}}}\ndefaults: {escalation: [{after: 5m, notify: a}, {after: 15m, notify: b}]}",
			`defaults.escalation[1] (after 15m): notifies "b", which is not under recipients`},
		{"no sink", "recipients: {a: {}}", "recipients.a: names no pagerduty, slack or chat"},
		{"bad events url", "recipients: {a: {pagerduty: {routing_key: 'env:K', events_url: 'ftp://x'}}}\ndefaults: {escalation: [{after: 5m, notify: a}]}",
			"recipients.a.pagerduty.events_url"},
		{"bad weekday", "freeze: [{weekdays: [sun, funday], from: '00:00', to: '06:00'}]", `freeze[0]: weekdays[1]: "funday"`},
		{"bad hour", "freeze: [{weekdays: [sun], from: '25:00', to: '06:00'}]", "freeze[0]: from:"},
		{"bad tz", "freeze: [{weekdays: [sun], from: '01:00', to: '06:00', tz: Mars/Olympus}]", "freeze[0]: tz:"},
		{"dates reversed", "freeze: [{start: '2026-12-24', end: '2026-12-01'}]", "freeze[0]: end: 2026-12-01 is before start"},
		{"both kinds", "freeze: [{start: '2026-12-24', end: '2026-12-25', weekdays: [sun]}]", "freeze[0]: either"},
		{"empty window", "freeze: [{}]", "freeze[0]: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.doc), mustDefault(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse() error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("Parse() error %q repeats the credential", err)
			}
		})
	}
}
