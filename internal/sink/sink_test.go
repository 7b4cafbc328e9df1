package sink_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/slack-go/slack"

	"github.com/runmedic/runmedic/internal/message"
	"github.com/runmedic/runmedic/internal/secret"
	"github.com/runmedic/runmedic/internal/sink"
	"github.com/runmedic/runmedic/internal/sinktest"
)

var key = secret.Literal("R0UTINGKEY0123456789abcdef012345")

func trigger() pagerduty.V2Event {
	return pagerduty.V2Event{Action: "trigger", DedupKey: "runmedic/x/1", Payload: &pagerduty.V2Payload{Summary: "memory", Source: "svc", Severity: "warning"}}
}

func chatMsg() message.ChatMessage {
	var c message.ChatCard
	c.CardID = "c"
	c.Card.Header.Title = "t"
	c.Card.Sections = []message.ChatSection{{Widgets: []message.ChatWidget{{TextParagraph: &message.ChatText{Text: "x"}}}}}
	return message.ChatMessage{Text: "t", CardsV2: []message.ChatCard{c}, Thread: message.ChatThread{ThreadKey: "k"}}
}

// send sends one message to kind through the real client of that sink.
func send(ctx context.Context, s *sink.Sender, rec *sinktest.Recorder, kind string) error {
	switch kind {
	case sinktest.PagerDuty:
		return s.PagerDutyEvent(ctx, rec.EventsURL(), key, trigger())
	case sinktest.Slack:
		return s.Slack(ctx, secret.Literal(rec.SlackWebhook("SECRETHOOK")), slack.WebhookMessage{Text: "memory"})
	default:
		return s.Chat(ctx, secret.Literal(rec.ChatWebhook("SECRETHOOK")), chatMsg())
	}
}

func TestRetries(t *testing.T) {
	for _, kind := range []string{sinktest.PagerDuty, sinktest.Slack, sinktest.Chat} {
		for _, tc := range []struct {
			name         string
			status, n    int
			retryAfter   string
			wantAttempts int
			wantErr      string // "" delivered; "permanent" a *PermanentError; else a substring
			minTime      time.Duration
		}{
			{"delivered", 0, 0, "", 1, "", 0},
			{"500 three times", 500, 3, "", 4, "", 0},
			{"503 past the attempts", 503, 9, "", 5, "HTTP 503 (after 5 attempts)", 0},
			{"429 honours Retry-After", 429, 1, "1", 2, "", time.Second},
			{"400 is permanent", 400, 1, "", 1, "permanent", 0},
			{"403 is permanent", 403, 1, "", 1, "permanent", 0},
		} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				rec := sinktest.New(t)
				rec.Fail(kind, tc.status, tc.n, tc.retryAfter)
				s := &sink.Sender{Backoff: time.Millisecond}
				start := time.Now()
				err := send(context.Background(), s, rec, kind)
				switch {
				case tc.wantErr == "" && err != nil:
					t.Fatalf("send = %v, want delivered", err)
				case tc.wantErr == "permanent" && !sink.IsPermanent(err):
					t.Fatalf("send = %v, want a permanent error", err)
				case tc.wantErr != "" && tc.wantErr != "permanent" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
					t.Fatalf("send = %v, want %q", err, tc.wantErr)
				}
				if err != nil && (strings.Contains(err.Error(), "SECRETHOOK") || strings.Contains(err.Error(), key.Reveal())) {
					t.Errorf("error %q carries a credential", err)
				}
				if got := rec.Attempts(kind); got != tc.wantAttempts {
					t.Errorf("attempts = %d, want %d", got, tc.wantAttempts)
				}
				if d := time.Since(start); d < tc.minTime {
					t.Errorf("took %s, want at least %s (Retry-After)", d, tc.minTime)
				}
			})
		}
	}
}

func TestDeadlineStopsRetries(t *testing.T) {
	rec := sinktest.New(t)
	rec.Fail(sinktest.Slack, 429, 5, "30")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err := send(ctx, &sink.Sender{}, rec, sinktest.Slack)
	if err == nil || sink.IsPermanent(err) || !strings.Contains(err.Error(), "no time left") {
		t.Fatalf("send = %v, want a retryable error that ran out of time", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s: it waited although the deadline was too close", d)
	}
}

func TestRecorderRefusesBadShapes(t *testing.T) {
	rec := sinktest.New(t)
	s := &sink.Sender{Backoff: time.Millisecond}
	ctx := context.Background()
	bad := trigger()
	bad.Payload.Severity = "high"
	if err := s.PagerDutyEvent(ctx, rec.EventsURL(), key, bad); !sink.IsPermanent(err) || !strings.Contains(err.Error(), "severity") {
		t.Errorf("severity high: %v, want a permanent error naming severity", err)
	}
	ack := pagerduty.V2Event{Action: "acknowledge"}
	if err := s.PagerDutyEvent(ctx, rec.EventsURL(), key, ack); !sink.IsPermanent(err) || !strings.Contains(err.Error(), "dedup_key") {
		t.Errorf("acknowledge without dedup_key: %v", err)
	}
	long := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("x", 151), false, false))
	if err := s.Slack(ctx, secret.Literal(rec.SlackWebhook("h")), slack.WebhookMessage{Text: "t", Blocks: &slack.Blocks{BlockSet: []slack.Block{long}}}); !sink.IsPermanent(err) {
		t.Errorf("151-character header: %v, want permanent", err)
	}
	if err := s.PagerDutyChange(ctx, rec.EventsURL(), key, pagerduty.ChangeEvent{Payload: pagerduty.ChangeEventPayload{Summary: "raised memory"}}); err != nil {
		t.Errorf("change event: %v", err)
	}
	if got := rec.Changes(); len(got) != 1 || got[0].RoutingKey != key.Reveal() {
		t.Errorf("changes = %+v, want one with the routing key", got)
	}
	if len(rec.Events()) != 0 || len(rec.Slack()) != 0 {
		t.Errorf("refused messages were recorded")
	}
}
