// Package sinktest is a loopback stand-in for PagerDuty's Events API v2, Slack incoming webhooks
// and Google Chat webhooks. It checks each request against the documented shapes and limits and
// answers as the real service does (PagerDuty 202 with a dedup_key or 400 "invalid event"; Slack
// 200 "ok" or 400 "invalid_blocks"; Chat 200 with the message or 400), records what it accepted,
// and can script failures: a status returned the next N times, with an optional Retry-After.
package sinktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Routes on the recorder's base URL.
const (
	pdEventPath  = "/v2/enqueue"
	pdChangePath = "/v2/change/enqueue"
	slackPrefix  = "/services/"
	chatPrefix   = "/v1/spaces/"
)

// Sink names, as the recorder counts them (the same words as sink.Kind).
const (
	PagerDuty = "pagerduty"
	Slack     = "slack"
	Chat      = "chat"
)

// Event is an accepted PagerDuty event, as sent.
type Event struct {
	RoutingKey string          `json:"routing_key"`
	Action     string          `json:"event_action"`
	DedupKey   string          `json:"dedup_key"`
	Payload    *EventPayload   `json:"payload"`
	Links      []EventLink     `json:"links"`
	Raw        json.RawMessage `json:"-"`
}

// EventPayload is an event's payload.
type EventPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp"`
	Component     string         `json:"component"`
	Group         string         `json:"group"`
	Class         string         `json:"class"`
	CustomDetails map[string]any `json:"custom_details"`
}

// EventLink is a link of an event.
type EventLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Message is an accepted Slack or Chat message: its raw JSON, the path it was posted to, the
// fallback text and, for Chat, the thread key.
type Message struct {
	Path      string
	Text      string
	ThreadKey string
	Raw       json.RawMessage
}

// Recorder serves all three on one 127.0.0.1 port. Safe for concurrent use.
type Recorder struct {
	srv *httptest.Server

	mu       sync.Mutex
	events   []Event
	changes  []Event
	slack    []Message
	chat     []Message
	attempts map[string]int
	script   map[string][]failure
}

type failure struct {
	status     int
	retryAfter string
}

// Start starts a Recorder; the caller must Close it.
func Start() *Recorder {
	r := &Recorder{attempts: map[string]int{}, script: map[string][]failure{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	return r
}

// New starts a Recorder that stops when the test ends.
func New(t testing.TB) *Recorder {
	t.Helper()
	r := Start()
	t.Cleanup(r.Close)
	return r
}

// Close stops the server.
func (r *Recorder) Close() { r.srv.Close() }

// EventsURL is the PagerDuty events URL to configure (…/v2/enqueue).
func (r *Recorder) EventsURL() string { return r.srv.URL + pdEventPath }

// SlackWebhook is a Slack incoming-webhook URL on the recorder; name tells channels apart.
func (r *Recorder) SlackWebhook(name string) string {
	return r.srv.URL + slackPrefix + "T0000/B0000/" + name
}

// ChatWebhook is a Google Chat webhook URL on the recorder; name tells spaces apart.
func (r *Recorder) ChatWebhook(name string) string {
	return r.srv.URL + chatPrefix + name + "/messages?key=k&token=t"
}

// Fail makes the next n requests to sink (PagerDuty, Slack or Chat) answer status, with
// Retry-After retryAfter when it is not "".
func (r *Recorder) Fail(sink string, status, n int, retryAfter string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for range n {
		r.script[sink] = append(r.script[sink], failure{status, retryAfter})
	}
}

// Attempts counts every request to sink, accepted or not.
func (r *Recorder) Attempts(sink string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[sink]
}

// Events are the accepted PagerDuty trigger, acknowledge and resolve events, in order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Changes are the accepted PagerDuty change events, in order.
func (r *Recorder) Changes() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.changes)
}

// Slack are the accepted Slack messages, in order.
func (r *Recorder) Slack() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.slack)
}

// Chat are the accepted Chat messages, in order.
func (r *Recorder) Chat() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.chat)
}

// Count is how many events of action (trigger, acknowledge, resolve) were accepted.
func (r *Recorder) Count(action string) int {
	n := 0
	for _, e := range r.Events() {
		if e.Action == action {
			n++
		}
	}
	return n
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request) {
	sink := ""
	switch p := req.URL.Path; {
	case p == pdEventPath || p == pdChangePath:
		sink = PagerDuty
	case strings.HasPrefix(p, slackPrefix):
		sink = Slack
	case strings.HasPrefix(p, chatPrefix) && strings.HasSuffix(p, "/messages"):
		sink = Chat
	default:
		http.NotFound(w, req)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	r.attempts[sink]++
	var f *failure
	if q := r.script[sink]; len(q) > 0 {
		f, r.script[sink] = &q[0], q[1:]
	}
	r.mu.Unlock()
	if f != nil {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		writeError(w, sink, f.status, "scripted failure")
		return
	}
	if req.Method != http.MethodPost {
		writeError(w, sink, http.StatusMethodNotAllowed, "POST only")
		return
	}
	if err != nil || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		writeError(w, sink, http.StatusBadRequest, "want a JSON body")
		return
	}
	switch sink {
	case PagerDuty:
		r.servePagerDuty(w, req.URL.Path == pdChangePath, body)
	case Slack:
		r.serveSlack(w, req.URL.Path, body)
	case Chat:
		r.serveChat(w, req, body)
	}
}

// writeError answers as each service does when it refuses.
func writeError(w http.ResponseWriter, sink string, status int, msg string) {
	switch sink {
	case PagerDuty:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": []string{msg}}) //nolint:errcheck
	case Slack:
		w.WriteHeader(status)
		fmt.Fprint(w, "invalid_blocks")
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": "INVALID_ARGUMENT"}}) //nolint:errcheck
	}
}
