// Package topic publishes runmedic's JSON records to Pub/Sub: audit events and notifications. It
// is apart from package audit, which defines the records, so the orchestrator builds them
// without linking the Pub/Sub client.
package topic

import (
	"context"
	"encoding/json"
	"fmt"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"
)

// Publisher publishes JSON messages to one Pub/Sub topic: the audit topic (audit.Events) or the
// notification topic (audit.Notifications). Publish returns only once the server has stored the
// message, so a nil error means the record exists. It is safe for concurrent use.
type Publisher struct {
	client *pubsub.Client
	pub    *pubsub.Publisher
	topic  string
}

// NewPublisher connects to topic (an id in project, or a full projects/P/topics/T name). opts go
// to the client as they are: tests pass the emulator's endpoint options, production none.
// The topic is not checked here; a missing topic shows as an error on the first Publish.
func NewPublisher(ctx context.Context, project, topic string, opts ...option.ClientOption) (*Publisher, error) {
	if project == "" || topic == "" {
		return nil, fmt.Errorf("new publisher: project %q and topic %q must both be set", project, topic)
	}
	client, err := pubsub.NewClient(ctx, project, opts...)
	if err != nil {
		return nil, fmt.Errorf("pubsub client for %s: %w", project, err)
	}
	return &Publisher{client: client, pub: client.Publisher(topic), topic: topic}, nil
}

// Publish JSON-encodes payload, publishes it with attrs and waits for the server's message id.
func (p *Publisher) Publish(ctx context.Context, payload any, attrs map[string]string) (string, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("encode message for %s: %w", p.topic, err)
	}
	id, err := p.pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs}).Get(ctx)
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", p.topic, err)
	}
	return id, nil
}

// Close flushes what is still being sent and releases the connection. The Publisher is unusable
// afterwards.
func (p *Publisher) Close() error {
	p.pub.Stop()
	if err := p.client.Close(); err != nil {
		return fmt.Errorf("close pubsub client: %w", err)
	}
	return nil
}
