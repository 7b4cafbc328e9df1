// Package sink delivers rendered messages to the people: PagerDuty's Events API v2 through
// go-pagerduty, Slack incoming webhooks through slack-go, and Google Chat webhooks over plain
// HTTP. Every send is retried on 429, 5xx and transport errors with exponential backoff,
// honouring Retry-After, for as long as the context's deadline allows; any other 4xx is a
// *PermanentError that no retry can fix (a revoked key, a deleted webhook, a refused body).
//
// Errors never carry a credential: webhook URLs and routing keys are left out of every message.
package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind names a sink, as config.Recipient names them and the state records them.
type Kind string

// Kinds.
const (
	PagerDuty Kind = "pagerduty"
	Slack     Kind = "slack"
	Chat      Kind = "chat"
)

// PermanentError is a refusal that retrying cannot fix: a 4xx other than 429.
type PermanentError struct {
	Sink   Kind
	Status int
	Detail string // the sink's own words, when it sent any; never a credential
}

func (e *PermanentError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%s refused the message: HTTP %d", e.Sink, e.Status)
	}
	return fmt.Sprintf("%s refused the message: HTTP %d: %s", e.Sink, e.Status, e.Detail)
}

// IsPermanent reports whether err is a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Sender sends with retries. The zero value is ready: 5 attempts, 250 ms first backoff.
type Sender struct {
	// HTTP is the client requests go through; nil is a client with a 10 s timeout.
	HTTP *http.Client
	// Attempts bounds the tries of one send inside one delivery; 0 is 5.
	Attempts int
	// Backoff is the wait after the first failure, doubled after each; 0 is 250 ms.
	Backoff time.Duration
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

// maxWait bounds one wait, whatever Retry-After asks.
const maxWait = 30 * time.Second

// outcome is what the last HTTP exchange of one attempt said, seen below the client library.
type outcome struct {
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
	body       []byte // the start of a refusal's body
}

// recording is a RoundTripper that notes the status and Retry-After of each response.
type recording struct {
	base http.RoundTripper
	out  *outcome
}

func (r recording) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	var body []byte
	if resp.StatusCode >= 400 {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.out.mu.Lock()
	r.out.body = body
	r.out.status = resp.StatusCode
	r.out.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	r.out.mu.Unlock()
	return resp, nil
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// send runs try until it succeeds, fails for good, or the attempts or the deadline run out. try
// gets an *http.Client whose exchanges are observed, and returns the library's error; the status
// seen on the wire decides, so every client library is judged alike.
func (s *Sender) send(ctx context.Context, kind Kind, try func(ctx context.Context, c *http.Client) error) error {
	base := s.HTTP
	if base == nil {
		base = defaultHTTP
	}
	attempts, wait := s.Attempts, s.Backoff
	if attempts <= 0 {
		attempts = 5
	}
	if wait <= 0 {
		wait = 250 * time.Millisecond
	}
	transport := base.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	var last error
	for i := 1; ; i++ {
		out := &outcome{}
		c := *base
		c.Transport = recording{base: transport, out: out}
		err := try(ctx, &c)
		out.mu.Lock()
		status, retryAfter, body := out.status, out.retryAfter, out.body
		out.mu.Unlock()
		switch {
		case status >= 200 && status < 300:
			return nil
		case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
			return &PermanentError{Sink: kind, Status: status, Detail: refusal(body)}
		case status != 0:
			last = fmt.Errorf("send to %s: HTTP %d", kind, status)
		case err != nil:
			last = fmt.Errorf("send to %s: %w", kind, scrub(err))
		default:
			return nil // no HTTP status seen and no error: nothing to retry
		}
		if i >= attempts {
			return fmt.Errorf("%w (after %d attempts)", last, i)
		}
		d := min(max(wait, retryAfter), maxWait)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return fmt.Errorf("%w (after %d attempts; no time left to wait %s)", last, i, d)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (after %d attempts): %w", last, i, ctx.Err())
		case <-time.After(d):
		}
		wait *= 2
	}
}

// refusal is what a refusal's body says: PagerDuty's message and errors, Chat's error message,
// or Slack's one word.
func refusal(body []byte) string {
	var e struct {
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		return strings.TrimSpace(strings.Join(append([]string{e.Message, e.Error.Message}, e.Errors...), " "))
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 || strings.ContainsAny(s, "<{") {
		return ""
	}
	return s
}

// scrub drops the URL from a transport error: a webhook URL is a credential.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return errors.New("request failed")
}
