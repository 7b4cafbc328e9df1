package sink

import (
	"context"
	"fmt"
	"sync"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/message"
	"github.com/runmedic/runmedic/internal/secret"
)

// Router reaches the recipients of the config through their sinks: it resolves their
// credentials (once each, then cached), renders the message for the sink and sends it.
type Router struct {
	Recipients map[string]config.Recipient
	Secrets    secret.Resolver
	Sender     *Sender

	mu    sync.Mutex
	cache map[string]secret.Value
}

// Sinks are the sinks of recipient that a message of kind goes to: PagerDuty gets every kind
// (an acknowledge only when the recipient asks for it), Slack and Chat get pages and resolves.
func (r *Router) Sinks(recipient string, kind message.Kind) []Kind {
	rc, ok := r.Recipients[recipient]
	if !ok {
		return nil
	}
	var out []Kind
	if p := rc.PagerDuty; p != nil && (kind != message.Acknowledge || p.Acknowledges()) {
		out = append(out, PagerDuty)
	}
	if kind == message.Page || kind == message.Resolve {
		if rc.Slack != nil {
			out = append(out, Slack)
		}
		if rc.Chat != nil {
			out = append(out, Chat)
		}
	}
	return out
}

// Send renders in for one sink of recipient and sends it. A credential that cannot be resolved
// is an ordinary (retryable) error: a secret being rotated or a grant being fixed comes back.
// Credentials are cached; when a sink refuses a message for good, its credentials are read again
// and, if one changed (it was rotated), the message is sent once more with the new one.
func (r *Router) Send(ctx context.Context, recipient string, to Kind, in message.Input) error {
	err := r.send(ctx, recipient, to, in)
	if IsPermanent(err) && r.refreshed(ctx, recipient, to) {
		return r.send(ctx, recipient, to, in)
	}
	return err
}

// refreshed reads the credentials of one sink of recipient again, bypassing the cache, and
// reports whether any of them changed.
func (r *Router) refreshed(ctx context.Context, recipient string, to Kind) bool {
	changed := false
	for _, ref := range r.refs(recipient, to) {
		if secret.Check(ref) != nil {
			continue // a plain URL: nothing to rotate
		}
		r.mu.Lock()
		old, ok := r.cache[ref]
		r.mu.Unlock()
		v, err := r.Secrets.Resolve(ctx, ref)
		if err != nil || !ok || v.Reveal() == old.Reveal() {
			continue
		}
		r.mu.Lock()
		r.cache[ref] = v
		r.mu.Unlock()
		changed = true
	}
	return changed
}

// refs are the config references one sink of recipient reads.
func (r *Router) refs(recipient string, to Kind) []string {
	rc := r.Recipients[recipient]
	switch {
	case to == PagerDuty && rc.PagerDuty != nil:
		return []string{rc.PagerDuty.RoutingKey, rc.PagerDuty.EventsURL}
	case to == Slack && rc.Slack != nil:
		return []string{rc.Slack.Webhook}
	case to == Chat && rc.Chat != nil:
		return []string{rc.Chat.Webhook}
	}
	return nil
}

func (r *Router) send(ctx context.Context, recipient string, to Kind, in message.Input) error {
	rc, ok := r.Recipients[recipient]
	if !ok {
		return fmt.Errorf("recipient %q is not configured", recipient)
	}
	s := r.Sender
	if s == nil {
		s = &Sender{}
	}
	switch {
	case to == PagerDuty && rc.PagerDuty != nil:
		key, err := r.resolve(ctx, rc.PagerDuty.RoutingKey)
		if err != nil {
			return fmt.Errorf("pagerduty routing key of %s: %w", recipient, err)
		}
		events := config.DefaultEventsURL
		if rc.PagerDuty.EventsURL != "" {
			v, err := r.resolve(ctx, rc.PagerDuty.EventsURL)
			if err != nil {
				return fmt.Errorf("pagerduty events_url of %s: %w", recipient, err)
			}
			events = v.Reveal()
		}
		if in.Kind == message.Changed {
			return s.PagerDutyChange(ctx, events, key, message.Change(in))
		}
		return s.PagerDutyEvent(ctx, events, key, message.PagerDuty(in))
	case to == Slack && rc.Slack != nil:
		hook, err := r.resolve(ctx, rc.Slack.Webhook)
		if err != nil {
			return fmt.Errorf("slack webhook of %s: %w", recipient, err)
		}
		return s.Slack(ctx, hook, message.Slack(in))
	case to == Chat && rc.Chat != nil:
		hook, err := r.resolve(ctx, rc.Chat.Webhook)
		if err != nil {
			return fmt.Errorf("chat webhook of %s: %w", recipient, err)
		}
		return s.Chat(ctx, hook, message.Chat(in))
	}
	return fmt.Errorf("recipient %q has no %s sink", recipient, to)
}

// resolve reads ref, or a plain URL (events_url may be written as one), caching what it read.
func (r *Router) resolve(ctx context.Context, ref string) (secret.Value, error) {
	if secret.Check(ref) != nil {
		return secret.Literal(ref), nil // a URL validated by config, not a credential
	}
	r.mu.Lock()
	v, ok := r.cache[ref]
	r.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := r.Secrets.Resolve(ctx, ref)
	if err != nil {
		return secret.Value{}, err
	}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]secret.Value{}
	}
	r.cache[ref] = v
	r.mu.Unlock()
	return v, nil
}
