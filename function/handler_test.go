package function

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/remediate"
)

var now = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)

// pubsubEvent wraps data as the messagePublished CloudEvent the trigger delivers.
func pubsubEvent(t *testing.T, data []byte, published time.Time, attrs map[string]string) event.Event {
	t.Helper()
	e := event.New()
	e.SetID("evt-1")
	e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	e.SetSource("//pubsub.googleapis.com/projects/p/topics/alerts")
	msg := alert.MessagePublishedData{Message: alert.Message{Data: data, Attributes: attrs, MessageID: "m-1", PublishTime: published}}
	if err := e.SetData(event.ApplicationJSON, msg); err != nil {
		t.Fatal(err)
	}
	return e
}

// bareHandler returns a Handler whose remediator has no clients: any event that reaches it panics,
// which the handler must turn into a logged ack.
func bareHandler(log *bytes.Buffer) *Handler {
	cfg, _ := config.Default()
	l := audit.NewLogger(log)
	return &Handler{
		Remediator:  &remediate.Remediator{Config: cfg, Now: func() time.Time { return now }, Log: l},
		Log:         l,
		MaxEventAge: time.Hour,
		Now:         func() time.Time { return now },
	}
}

func incident(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "tests", "scenarios", "insufficient-memory", "incident.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEventAcks covers the deliveries the handler must ack without acting, each with exactly
// one log line saying why.
func TestEventAcks(t *testing.T) {
	notJSON := event.New()
	notJSON.SetID("evt-2")
	notJSON.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	notJSON.SetSource("//pubsub.googleapis.com/projects/p/topics/alerts")
	if err := notJSON.SetData("text/plain", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		event   event.Event
		wantLog string
	}{
		{"older than max_event_age", pubsubEvent(t, incident(t), now.Add(-2*time.Hour), nil), "older than 1h0m0s; acked without acting"},
		{"malformed notification", pubsubEvent(t, []byte(`{"incident":`), now, nil), "malformed notification"},
		{"test notification", pubsubEvent(t, []byte(`{"version":"test","incident":{"incident_id":"1","state":"OPEN"}}`), now, nil), "test notification"},
		{"not a Pub/Sub message", notJSON, "not a Pub/Sub message"},
		{"a panic in the pipeline", pubsubEvent(t, incident(t), now, nil), "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			if err := bareHandler(&log).Event(context.Background(), tt.event); err != nil {
				t.Fatalf("Event() = %v, want nil (ack)", err)
			}
			lines := strings.Split(strings.TrimSpace(log.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.wantLog) {
				t.Fatalf("log = %q, want one line containing %q", log.String(), tt.wantLog)
			}
			var entry map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil || entry["severity"] == nil {
				t.Errorf("log line %q is not a Cloud Logging JSON entry: %v", lines[0], err)
			}
		})
	}
}

func TestDeliveryTimeout(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want time.Duration
	}{
		{"", DeliveryTimeout},
		{"540", DeliveryTimeout},
		{"300", 270 * time.Second},
		{"not a number", DeliveryTimeout},
		{"30", DeliveryTimeout},
	} {
		if got := deliveryTimeout(tt.env); got != tt.want {
			t.Errorf("deliveryTimeout(%q) = %v, want %v", tt.env, got, tt.want)
		}
	}
}
