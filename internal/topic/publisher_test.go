package topic

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/pubsubtest"
)

const (
	project = "runmedic-topic-test"
	target  = "projects/aiprod-484120/locations/europe-west1/services/aiprod-api"
)

// TestPublisher publishes through the real client to the real emulator and reads the messages
// back from a pull subscription.
func TestPublisher(t *testing.T) {
	e := pubsubtest.New(t, project)
	ctx := context.Background()
	for _, topic := range []string{"audit", "notify"} {
		if err := e.CreateTopic(ctx, topic); err != nil {
			t.Fatal(err)
		}
		if err := e.CreatePullSubscription(ctx, topic+"-pull", topic); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("audit event", func(t *testing.T) {
		p, err := NewPublisher(ctx, project, "audit", e.ClientOptions()...)
		if err != nil {
			t.Fatal(err)
		}
		defer closePublisher(t, p)
		want := audit.Event{Time: time.Date(2026, 2, 4, 10, 31, 5, 0, time.UTC), Incident: "0.nrwotmyokd9n", Target: target, Step: "raise_memory", Outcome: audit.Applied}.WithID()
		id, err := p.Publish(ctx, want, want.Attributes())
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := e.Pull(ctx, "audit-pull", 1, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 {
			t.Fatalf("pulled %d messages, want 1", len(msgs))
		}
		if msgs[0].ID != id {
			t.Errorf("pulled message id %q, Publish returned %q", msgs[0].ID, id)
		}
		var got audit.Event
		if err := json.Unmarshal(msgs[0].Data, &got); err != nil {
			t.Fatalf("decode %s: %v", msgs[0].Data, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("event round trip (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want.Attributes(), msgs[0].Attributes); diff != "" {
			t.Errorf("attributes (-want +got):\n%s", diff)
		}
	})

	t.Run("notification", func(t *testing.T) {
		// A full topic name works as well as an id.
		p, err := NewPublisher(ctx, project, e.TopicName("notify"), e.ClientOptions()...)
		if err != nil {
			t.Fatal(err)
		}
		defer closePublisher(t, p)
		want := audit.Notification{
			Time: time.Date(2026, 2, 4, 10, 29, 0, 0, time.UTC), Incident: "0.a", Target: target,
			Severity: "Warning", To: "backend-lead@aiprod.ai", After: "5m",
			Action: decision.Restart, Diagnosis: decision.GradualGrowth,
			Reason: "steady rise over 6h with resets", Evidence: []string{"rising_minutes=360"},
		}.WithID()
		if _, err := p.Publish(ctx, want, want.Attributes()); err != nil {
			t.Fatal(err)
		}
		msgs, err := e.Pull(ctx, "notify-pull", 1, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 {
			t.Fatalf("pulled %d messages, want 1", len(msgs))
		}
		var got audit.Notification
		if err := json.Unmarshal(msgs[0].Data, &got); err != nil {
			t.Fatalf("decode %s: %v", msgs[0].Data, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("notification round trip (-want +got):\n%s", diff)
		}
		if a := msgs[0].Attributes; a["severity"] != "warning" || a["notify"] != "backend-lead@aiprod.ai" {
			t.Errorf("routing attributes = %v, want severity=warning notify=backend-lead@aiprod.ai", a)
		}
	})
}

func TestPublisherErrors(t *testing.T) {
	e := pubsubtest.New(t, project)
	ctx := context.Background()
	if err := e.CreateTopic(ctx, "audit"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, topic string
		payload     any
		want        string
	}{
		{"unencodable payload", "audit", map[string]any{"c": make(chan int)}, "encode message for audit: json: unsupported type"},
		{"missing topic", "nope", audit.Event{Outcome: audit.Applied}, "publish to nope: rpc error: code = NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPublisher(ctx, project, tt.topic, e.ClientOptions()...)
			if err != nil {
				t.Fatal(err)
			}
			defer closePublisher(t, p)
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			id, err := p.Publish(ctx, tt.payload, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Publish = %q, %v, want error starting %q", id, err, tt.want)
			}
		})
	}

	if _, err := NewPublisher(ctx, project, "", e.ClientOptions()...); err == nil {
		t.Errorf("NewPublisher with empty topic = nil error, want one")
	}
}

func closePublisher(t *testing.T, p *Publisher) {
	t.Helper()
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
