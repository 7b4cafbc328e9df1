package function

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// tooManyLabels is the fixture with 65 policy user labels.
func tooManyLabels(t *testing.T) []byte {
	kv := []string{`"remediation": "auto"`}
	for i := range 64 {
		kv = append(kv, fmt.Sprintf(`"k%d": "v"`, i))
	}
	return bytes.Replace(incident(t), []byte(`"remediation": "auto"`), []byte(strings.Join(kv, ",")), 1)
}

// forgedURL is the fixture for a service outside the allowlist (so the bare remediator answers
// without clients) with an incident URL that points at another project.
func forgedURL(t *testing.T) []byte {
	b := bytes.ReplaceAll(incident(t), []byte(`"service_name": "aiprod-api"`), []byte(`"service_name": "stranger"`))
	return bytes.Replace(b, []byte("project=aiprod-484120"), []byte("project=attacker"), 1)
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
		{"message data one byte over the cap", pubsubEvent(t, bytes.Repeat([]byte("x"), MaxMessageData+1), now, nil), "message data is 65537 bytes, over the 65536-byte cap"},
		{"too many labels", pubsubEvent(t, tooManyLabels(t), now, nil), "incident.policy_user_labels has 65 labels, more than 64"},
		{"a forged incident URL is dropped with a warning", pubsubEvent(t, forgedURL(t), now, nil), "incident.url dropped: project=\\\"attacker\\\" is neither the scoping project"},
		{"event data over the cap", pubsubEvent(t, bytes.Repeat([]byte("x"), 1<<20), now, nil), "over the 103768-byte cap for a notification; acked without decoding"},
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

// TestOversizedMessagesAckedOnce: eight messages at Pub/Sub's 10 MB maximum, delivered at once,
// are each acked with exactly one log line and never reach the remediator (whose missing
// clients would log an internal error).
func TestOversizedMessagesAckedOnce(t *testing.T) {
	data := bytes.Repeat([]byte(`{"incident":{"summary":"`), 10<<20/24)
	events := make([]event.Event, 8)
	for i := range events {
		events[i] = pubsubEvent(t, data, now, nil)
		events[i].SetID(fmt.Sprintf("big-%d", i))
	}
	var log syncBuffer
	h := bareHandler(&log.buf)
	h.Log = audit.NewLogger(&log)
	errs := make(chan error, len(events))
	for _, e := range events {
		go func() { errs <- h.Event(context.Background(), e) }()
	}
	for range events {
		if err := <-errs; err != nil {
			t.Errorf("Event() = %v, want nil (ack)", err)
		}
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != len(events) {
		t.Fatalf("%d log lines, want %d (one per message):\n%s", len(lines), len(events), log.String())
	}
	for i := range events {
		id := fmt.Sprintf("event big-%d: data is ", i)
		n := 0
		for _, l := range lines {
			if strings.Contains(l, id) && strings.Contains(l, "acked without decoding") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d log lines for big-%d, want 1:\n%s", n, i, log.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent deliveries of one test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
