package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/secret"
)

// Recipient is where one person or role of the escalation table is reached. Every credential is a
// reference (env:NAME or secret:projects/P/secrets/S/versions/V), never the credential itself.
type Recipient struct {
	PagerDuty *PagerDuty `json:"pagerduty,omitempty"`
	Slack     *Webhook   `json:"slack,omitempty"`
	Chat      *Webhook   `json:"chat,omitempty"`
}

// PagerDuty routes to one PagerDuty service through the Events API v2.
type PagerDuty struct {
	RoutingKey string `json:"routing_key"`
	// EventsURL is the Events API endpoint, a URL or env:NAME; empty means DefaultEventsURL. EU
	// accounts use https://events.eu.pagerduty.com/v2/enqueue.
	EventsURL string `json:"events_url,omitempty"`
	// AcknowledgeOnApply acknowledges the page while an applied remedy is verifying; nil is true.
	AcknowledgeOnApply *bool `json:"acknowledge_on_apply,omitempty"`
}

// DefaultEventsURL is PagerDuty's Events API v2 endpoint.
const DefaultEventsURL = "https://events.pagerduty.com/v2/enqueue"

// Acknowledges reports whether the page is acknowledged while a remedy verifies.
func (p PagerDuty) Acknowledges() bool { return p.AcknowledgeOnApply == nil || *p.AcknowledgeOnApply }

// Webhook is an incoming webhook (Slack or Google Chat); the URL carries its credential.
type Webhook struct {
	Webhook string `json:"webhook"`
}

// FreezeWindow is a time in which runmedic changes nothing. Either Weekdays with From/To hours
// (a weekly window; To before From crosses midnight) or Start/End dates (inclusive), read in TZ
// (an IANA zone; empty is UTC).
type FreezeWindow struct {
	Name     string   `json:"name,omitempty"`
	Weekdays []string `json:"weekdays,omitempty"` // mon … sun
	From     string   `json:"from,omitempty"`     // "18:00"
	To       string   `json:"to,omitempty"`       // "09:00"; "24:00" is the end of the day
	Start    string   `json:"start,omitempty"`    // "2026-12-24"
	End      string   `json:"end,omitempty"`      // "2026-12-26", inclusive
	TZ       string   `json:"tz,omitempty"`
}

// Weekdays in the order and spelling freeze windows use.
var Weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Location is the window's time zone.
func (w FreezeWindow) Location() (*time.Location, error) {
	if w.TZ == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(w.TZ)
}

// Minutes parses an "HH:MM" hour of the day into minutes after midnight (0 … 1440).
func Minutes(hhmm string) (int, error) {
	var h, m int
	if _, err := fmt.Sscanf(hhmm, "%d:%d", &h, &m); err != nil || len(hhmm) != 5 || h < 0 || m < 0 || m > 59 || h*60+m > 24*60 {
		return 0, fmt.Errorf("%q: want HH:MM between 00:00 and 24:00", hhmm)
	}
	return h*60 + m, nil
}

// validatePeople checks recipients, the escalation table's names against them, and freezes.
// Errors never repeat a value that may be a credential.
func (c Config) validatePeople() error {
	names := make([]string, 0, len(c.Recipients))
	for name := range c.Recipients {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		r := c.Recipients[name]
		path := "recipients." + name
		if r.PagerDuty == nil && r.Slack == nil && r.Chat == nil {
			return fmt.Errorf("%s: names no pagerduty, slack or chat", path)
		}
		if p := r.PagerDuty; p != nil {
			if err := secret.Check(p.RoutingKey); err != nil {
				return fmt.Errorf("%s.pagerduty.routing_key: %w", path, err)
			}
			if u := p.EventsURL; u != "" && !strings.HasPrefix(u, "env:") && !isHTTPURL(u) {
				return fmt.Errorf("%s.pagerduty.events_url: %q is not an http(s) URL or env:NAME", path, u)
			}
		}
		for _, w := range []struct {
			sink string
			hook *Webhook
		}{{"slack", r.Slack}, {"chat", r.Chat}} {
			if w.hook == nil {
				continue
			}
			if err := secret.Check(w.hook.Webhook); err != nil {
				return fmt.Errorf("%s.%s.webhook: %w", path, w.sink, err)
			}
		}
	}
	if len(c.Recipients) > 0 {
		for i, e := range c.Defaults.Escalation {
			if _, ok := c.Recipients[e.Notify]; !ok {
				return fmt.Errorf("defaults.escalation[%d] (after %s): notifies %q, which is not under recipients", i, e.After, e.Notify)
			}
		}
	}
	for i, w := range c.Freeze {
		if err := w.validate(); err != nil {
			return fmt.Errorf("freeze[%d]: %w", i, err)
		}
	}
	return nil
}

func (w FreezeWindow) validate() error {
	if _, err := w.Location(); err != nil {
		return fmt.Errorf("tz: %w", err)
	}
	weekly := len(w.Weekdays) > 0 || w.From != "" || w.To != ""
	dated := w.Start != "" || w.End != ""
	switch {
	case weekly && dated:
		return errors.New("either weekdays with from/to, or start/end dates, not both")
	case dated:
		s, err := time.Parse(time.DateOnly, w.Start)
		if err != nil {
			return fmt.Errorf("start: %q: want YYYY-MM-DD", w.Start)
		}
		e, err := time.Parse(time.DateOnly, w.End)
		if err != nil {
			return fmt.Errorf("end: %q: want YYYY-MM-DD", w.End)
		}
		if e.Before(s) {
			return fmt.Errorf("end: %s is before start %s", w.End, w.Start)
		}
	case weekly:
		for j, d := range w.Weekdays {
			if !slices.Contains(Weekdays, d) {
				return fmt.Errorf("weekdays[%d]: %q is not one of %s", j, d, strings.Join(Weekdays, ", "))
			}
		}
		f, err := Minutes(w.From)
		if err != nil {
			return fmt.Errorf("from: %w", err)
		}
		t, err := Minutes(w.To)
		if err != nil {
			return fmt.Errorf("to: %w", err)
		}
		if f == t {
			return fmt.Errorf("from and to are both %s: an empty window", w.From)
		}
	default:
		return errors.New("empty: want weekdays with from/to, or start/end dates")
	}
	return nil
}

// isHTTPURL reports whether u is http(s)://HOST… with a host and no spaces.
func isHTTPURL(u string) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(u, "http://")
	}
	host, _, _ := strings.Cut(rest, "/")
	return ok && host != "" && !strings.ContainsAny(u, " \t\n")
}
