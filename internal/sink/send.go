package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/slack-go/slack"

	"github.com/runmedic/runmedic/internal/message"
	"github.com/runmedic/runmedic/internal/secret"
)

// eventsBase is the base URL go-pagerduty expects ("https://events.pagerduty.com") for a
// configured events URL, which people copy whole from PagerDuty's docs (…/v2/enqueue).
func eventsBase(eventsURL string) string {
	base := strings.TrimSuffix(eventsURL, "/")
	base = strings.TrimSuffix(base, "/v2/enqueue")
	return strings.TrimSuffix(base, "/v2/change/enqueue")
}

// PagerDutyEvent sends a trigger, acknowledge or resolve to the Events API v2 at eventsURL
// with routing key key.
func (s *Sender) PagerDutyEvent(ctx context.Context, eventsURL string, key secret.Value, ev pagerduty.V2Event) error {
	ev.RoutingKey = key.Reveal()
	return s.send(ctx, PagerDuty, func(ctx context.Context, c *http.Client) error {
		pd := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(eventsBase(eventsURL)))
		pd.HTTPClient = c
		_, err := pd.ManageEventWithContext(ctx, &ev)
		return err
	})
}

// PagerDutyChange sends a change event to the Events API v2 at eventsURL.
func (s *Sender) PagerDutyChange(ctx context.Context, eventsURL string, key secret.Value, ev pagerduty.ChangeEvent) error {
	ev.RoutingKey = key.Reveal()
	return s.send(ctx, PagerDuty, func(ctx context.Context, c *http.Client) error {
		pd := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(eventsBase(eventsURL)))
		pd.HTTPClient = c
		_, err := pd.CreateChangeEventWithContext(ctx, ev)
		return err
	})
}

// Slack posts msg to an incoming webhook.
func (s *Sender) Slack(ctx context.Context, webhook secret.Value, msg slack.WebhookMessage) error {
	return s.send(ctx, Slack, func(ctx context.Context, c *http.Client) error {
		return slack.PostWebhookCustomHTTPContext(ctx, webhook.Reveal(), c, &msg)
	})
}

// Chat posts msg to a Google Chat incoming webhook, replying in the incident's thread (or
// starting it).
func (s *Sender) Chat(ctx context.Context, webhook secret.Value, msg message.ChatMessage) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode chat message: %w", err)
	}
	return s.send(ctx, Chat, func(ctx context.Context, c *http.Client) error {
		u := webhook.Reveal()
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u+sep+"messageReplyOption="+message.ChatReplyOption, bytes.NewReader(body))
		if err != nil {
			return errors.New("chat webhook is not a URL")
		}
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode >= 300 {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	})
}
