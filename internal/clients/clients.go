// Package clients connects runmedic to Google Cloud from its environment, the same way for the
// Cloud Function, `runmedic serve` and the CLI. For local fakes, RUNMEDIC_RUN_ENDPOINT,
// RUNMEDIC_MONITORING_ENDPOINT and RUNMEDIC_LOGGING_ENDPOINT (host:port; all three may name one
// address) connect over plaintext gRPC without credentials, as PUBSUB_EMULATOR_HOST does for
// Pub/Sub.
package clients

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/logs"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/topic"
)

// Environment variables read here.
const (
	EnvRunEndpoint        = "RUNMEDIC_RUN_ENDPOINT"
	EnvMonitoringEndpoint = "RUNMEDIC_MONITORING_ENDPOINT"
	EnvLoggingEndpoint    = "RUNMEDIC_LOGGING_ENDPOINT"
	EnvAuditTopic         = "RUNMEDIC_AUDIT_TOPIC"  // projects/P/topics/T
	EnvNotifyTopic        = "RUNMEDIC_NOTIFY_TOPIC" // projects/P/topics/T
)

// Set is every client a live run needs. Audit and Notify are nil when their topic is not set.
// Logs is never nil: when its client cannot be made, every read reports why, and the decision is
// made without the logs.
type Set struct {
	Run        *cloudrun.Client
	Monitoring *monitoring.Client
	Logs       *logs.Reader
	Audit      *topic.Publisher
	Notify     *topic.Publisher
}

// Options choose which clients to make.
type Options struct {
	Topics bool // also connect the audit and notification publishers
}

// New connects the clients. getenv is os.Getenv in production.
func New(ctx context.Context, getenv func(string) string, o Options) (*Set, error) {
	s := &Set{}
	var err error
	if ep := getenv(EnvRunEndpoint); ep != "" {
		s.Run, err = cloudrun.New(ctx, cloudrun.EndpointOptions(ep)...)
	} else {
		s.Run, err = cloudrun.New(ctx)
	}
	if err != nil {
		return nil, explain(err, EnvRunEndpoint)
	}
	if ep := getenv(EnvMonitoringEndpoint); ep != "" {
		s.Monitoring, err = monitoring.New(ctx, cloudrun.EndpointOptions(ep)...)
	} else {
		s.Monitoring, err = monitoring.New(ctx)
	}
	if err != nil {
		s.Close()
		return nil, explain(err, EnvMonitoringEndpoint)
	}
	if ep := getenv(EnvLoggingEndpoint); ep != "" {
		s.Logs, err = logs.New(ctx, cloudrun.EndpointOptions(ep)...)
	} else {
		s.Logs, err = logs.New(ctx)
	}
	if err != nil {
		s.Logs = logs.Unavailable(explain(err, EnvLoggingEndpoint).Error())
	}
	if !o.Topics {
		return s, nil
	}
	if s.Audit, err = publisher(ctx, getenv(EnvAuditTopic), EnvAuditTopic); err != nil {
		s.Close()
		return nil, err
	}
	if s.Notify, err = publisher(ctx, getenv(EnvNotifyTopic), EnvNotifyTopic); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// publisher connects to a full topic name; an empty name means no publisher.
func publisher(ctx context.Context, name, env string) (*topic.Publisher, error) {
	if name == "" {
		return nil, nil
	}
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[2] != "topics" || parts[1] == "" || parts[3] == "" {
		return nil, fmt.Errorf("%s=%q: want projects/PROJECT/topics/TOPIC", env, name)
	}
	p, err := topic.NewPublisher(ctx, parts[1], name)
	if err != nil {
		return nil, explain(err, "PUBSUB_EMULATOR_HOST")
	}
	return p, nil
}

// explain turns a missing-credentials error into one line that names the fix.
func explain(err error, endpointEnv string) error {
	if strings.Contains(err.Error(), "could not find default credentials") {
		return errors.New("no Google credentials: run `gcloud auth application-default login` " +
			"(or set GOOGLE_APPLICATION_CREDENTIALS), or point " + endpointEnv + " at a local fake")
	}
	return err
}

// Close releases every client that was made.
func (s *Set) Close() {
	if s.Run != nil {
		s.Run.Close()
	}
	if s.Monitoring != nil {
		s.Monitoring.Close()
	}
	if s.Logs != nil {
		s.Logs.Close()
	}
	if s.Audit != nil {
		s.Audit.Close()
	}
	if s.Notify != nil {
		s.Notify.Close()
	}
}
