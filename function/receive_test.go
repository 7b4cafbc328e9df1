package function

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
)

const pushBody = `{"message":{"data":"` + "eyJpbmNpZGVudCI6e319" + `","attributes":{"k":"v"},"messageId":"m-7","publishTime":"2026-02-04T10:29:00Z"},"subscription":"projects/p/subscriptions/s"}`

// received is what a handler saw of an event, compared field by field.
type received struct {
	ID, Type, Source string
	Time             time.Time
	MessageID, Data  string
	Attributes       map[string]string
}

func receivedOf(t *testing.T, e event.Event) received {
	t.Helper()
	var msg alert.MessagePublishedData
	if err := e.DataAs(&msg); err != nil {
		t.Fatalf("DataAs: %v", err)
	}
	return received{
		ID: e.ID(), Type: e.Type(), Source: e.Source(), Time: e.Time().UTC(),
		MessageID: msg.Message.MessageID, Data: string(msg.Message.Data), Attributes: msg.Message.Attributes,
	}
}

func request(method, path, body string, header map[string]string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

var binaryHeaders = map[string]string{
	"Content-Type":   "application/json",
	"ce-specversion": "1.0",
	"ce-id":          "evt-9",
	"ce-type":        MessagePublished,
	"ce-source":      "//pubsub.googleapis.com/projects/p/topics/alerts",
	"ce-time":        "2026-02-04T10:29:01Z",
}

// TestReceiverDecodes: the three shapes a delivery takes reach the handler as the same
// messagePublished event, answered 200.
func TestReceiverDecodes(t *testing.T) {
	published := time.Date(2026, 2, 4, 10, 29, 0, 0, time.UTC)
	message := func(id string) received {
		return received{Type: MessagePublished, MessageID: "m-7", Data: `{"incident":{}}`, Attributes: map[string]string{"k": "v"}, ID: id}
	}
	binary := message("evt-9")
	binary.Source, binary.Time = "//pubsub.googleapis.com/projects/p/topics/alerts", published.Add(time.Second)
	push := message("m-7")
	push.Source, push.Time = "//pubsub.googleapis.com/projects/p/topics/alerts", published
	structured := binary
	structuredBody := `{"specversion":"1.0","id":"evt-9","type":"` + MessagePublished + `","source":"//pubsub.googleapis.com/projects/p/topics/alerts","time":"2026-02-04T10:29:01Z","datacontenttype":"application/json","data":` + pushBody + `}`
	structuredB64 := `{"specversion":"1.0","id":"evt-9","type":"` + MessagePublished + `","source":"//pubsub.googleapis.com/projects/p/topics/alerts","time":"2026-02-04T10:29:01Z","datacontenttype":"application/json","data_base64":"` + base64.StdEncoding.EncodeToString([]byte(pushBody)) + `"}`
	tests := []struct {
		name string
		req  *http.Request
		want received
	}{
		{"binary mode, as Eventarc pushes", request(http.MethodPost, "/", pushBody, binaryHeaders), binary},
		{"structured mode", request(http.MethodPost, "/", structuredBody, map[string]string{"Content-Type": "application/cloudevents+json"}), structured},
		{"structured mode, data in base64", request(http.MethodPost, "/", structuredB64, map[string]string{"Content-Type": "application/cloudevents+json; charset=utf-8"}), structured},
		{"Pub/Sub push body at the topic's path", request(http.MethodPost, "/projects/p/topics/alerts", pushBody, map[string]string{"Content-Type": "application/json"}), push},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []received
			rc := &Receiver{Handle: func(_ context.Context, e event.Event) error {
				got = append(got, receivedOf(t, e))
				return nil
			}}
			w := httptest.NewRecorder()
			rc.ServeHTTP(w, tt.req)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d (%q), want 200", w.Code, w.Body.String())
			}
			if diff := cmp.Diff([]received{tt.want}, got); diff != "" {
				t.Errorf("handled events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReceiverRetriesOnError: the handler's error answers 500, so Pub/Sub redelivers.
func TestReceiverRetriesOnError(t *testing.T) {
	rc := &Receiver{Handle: func(context.Context, event.Event) error { return errors.New("get service s: unavailable") }}
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, request(http.MethodPost, "/", pushBody, binaryHeaders))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500 (retry)", w.Code)
	}
}

// TestReceiverAcksOversizedUnread: a body over the cap is acked with one log line and never
// reaches the handler, whether its length is announced or it arrives chunked.
func TestReceiverAcksOversizedUnread(t *testing.T) {
	big := strings.Repeat("x", int(RequestLimit(MaxMessageData))+1)
	chunked := request(http.MethodPost, "/", "", binaryHeaders)
	chunked.Body = io.NopCloser(strings.NewReader(big))
	chunked.ContentLength = -1
	tests := []struct {
		name, wantLog string
		req           *http.Request
	}{
		{"announced by Content-Length", "body is 120153 bytes, over the 120152-byte cap", request(http.MethodPost, "/", big, binaryHeaders)},
		{"chunked", "body (no length given) is longer, over the 120152-byte cap", chunked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			handled := 0
			rc := &Receiver{Handle: func(context.Context, event.Event) error { handled++; return nil }, Log: audit.NewLogger(&log)}
			w := httptest.NewRecorder()
			rc.ServeHTTP(w, tt.req)
			if w.Code != http.StatusOK || handled != 0 {
				t.Errorf("status %d, handled %d times; want 200 (ack) and never handled", w.Code, handled)
			}
			lines := strings.Split(strings.TrimSpace(log.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "request evt-9: "+tt.wantLog) || !strings.Contains(lines[0], "acked without decoding") {
				t.Errorf("log = %q, want one line containing %q", log.String(), tt.wantLog)
			}
		})
	}
}

// TestReceiverRefuses: requests that are not deliveries get a defined status and a one-line
// answer, and never reach the handler.
func TestReceiverRefuses(t *testing.T) {
	noType := map[string]string{"Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "evt-9", "ce-source": "//x"}
	tests := []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantBody   string
	}{
		{"GET", request(http.MethodGet, "/", "", nil), http.StatusMethodNotAllowed, "method GET: a delivery is a POST"},
		{"not JSON, no ce-id", request(http.MethodPost, "/", "hello", nil), http.StatusBadRequest, "request (no ce-id): neither a CloudEvent (no ce-id header) nor a Pub/Sub push body: invalid character"},
		{"JSON without a message", request(http.MethodPost, "/projects/p/topics/t", `{"subscription":"s"}`, nil), http.StatusBadRequest, "request (no ce-id): neither a CloudEvent (no ce-id header) nor a Pub/Sub push body: no message.messageId"},
		{"binary mode without ce-type", request(http.MethodPost, "/", pushBody, noType), http.StatusBadRequest, "request evt-9: invalid CloudEvent: "},
		{"structured mode, not JSON", request(http.MethodPost, "/", "{", map[string]string{"Content-Type": "application/cloudevents+json"}), http.StatusBadRequest, "request (no ce-id): not a CloudEvent: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			handled := 0
			rc := &Receiver{Handle: func(context.Context, event.Event) error { handled++; return nil }, Log: audit.NewLogger(&log)}
			w := httptest.NewRecorder()
			rc.ServeHTTP(w, tt.req)
			body := w.Body.String()
			if w.Code != tt.wantStatus || handled != 0 {
				t.Errorf("status %d, handled %d times; want %d, never handled", w.Code, handled, tt.wantStatus)
			}
			if strings.Count(body, "\n") != 1 || !strings.HasPrefix(body, tt.wantBody) {
				t.Errorf("body %q, want one line starting %q", body, tt.wantBody)
			}
			if n := strings.Count(log.String(), "\n"); n != 1 {
				t.Errorf("%d log lines, want 1: %q", n, log.String())
			}
		})
	}
	if got := (&Receiver{}).maxBody(); got != RequestLimit(MaxMessageData) {
		t.Errorf("default cap %d, want RequestLimit(MaxMessageData) = %d", got, RequestLimit(MaxMessageData))
	}
}
