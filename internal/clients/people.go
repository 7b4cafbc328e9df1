package clients

import (
	"context"
	"os"
	"strings"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/secret"
	"github.com/runmedic/runmedic/internal/secretmanager"
	"github.com/runmedic/runmedic/internal/sink"
	"github.com/runmedic/runmedic/internal/snooze"
)

// EnvSecretManagerEndpoint points Secret Manager reads at a local fake (host:port, plaintext).
const EnvSecretManagerEndpoint = "RUNMEDIC_SECRETMANAGER_ENDPOINT"

// People is the router to the config's recipients, or nil when the config names none. Secret
// Manager is connected only when a recipient names a secret: reference, and read lazily (a
// secret being fixed does not stop the function from starting). close releases it.
func People(ctx context.Context, cfg config.Config, getenv func(string) string) (r *sink.Router, close func(), err error) {
	close = func() {}
	if len(cfg.Recipients) == 0 {
		return nil, close, nil
	}
	res := secret.Resolver{Getenv: getenv}
	if getenv == nil {
		res.Getenv = os.Getenv
	}
	if usesSecretManager(cfg) {
		var sm *secretmanager.Client
		if ep := getenv(EnvSecretManagerEndpoint); ep != "" {
			sm, err = secretmanager.New(ctx, cloudrun.EndpointOptions(ep)...)
		} else {
			sm, err = secretmanager.New(ctx)
		}
		if err != nil {
			return nil, close, explain(err, EnvSecretManagerEndpoint)
		}
		res.Secrets = sm
		close = func() { sm.Close() }
	}
	return &sink.Router{Recipients: cfg.Recipients, Secrets: res, Sender: &sink.Sender{}}, close, nil
}

// usesSecretManager reports whether any recipient reads a secret: reference.
func usesSecretManager(cfg config.Config) bool {
	for _, r := range cfg.Recipients {
		refs := []string{}
		if r.PagerDuty != nil {
			refs = append(refs, r.PagerDuty.RoutingKey, r.PagerDuty.EventsURL)
		}
		if r.Slack != nil {
			refs = append(refs, r.Slack.Webhook)
		}
		if r.Chat != nil {
			refs = append(refs, r.Chat.Webhook)
		}
		for _, ref := range refs {
			if strings.HasPrefix(ref, "secret:") {
				return true
			}
		}
	}
	return false
}

// EnvSnoozeEndpoint points snooze reads at a local fake (host:port, plaintext).
const EnvSnoozeEndpoint = "RUNMEDIC_SNOOZE_ENDPOINT"

// Snoozes connects the snooze reader: to EnvSnoozeEndpoint when set, to Cloud Monitoring when no
// local Monitoring endpoint is set either. With a local Monitoring fake and no snooze endpoint
// it returns nil (no snoozes are read): the metrics fake serves no SnoozeService.
func Snoozes(ctx context.Context, getenv func(string) string) (*snooze.Reader, error) {
	switch {
	case getenv(EnvSnoozeEndpoint) != "":
		return snooze.New(ctx, cloudrun.EndpointOptions(getenv(EnvSnoozeEndpoint))...)
	case getenv(EnvMonitoringEndpoint) != "":
		return nil, nil
	}
	r, err := snooze.New(ctx)
	if err != nil {
		return nil, explain(err, EnvSnoozeEndpoint)
	}
	return r, nil
}
