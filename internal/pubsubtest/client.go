package pubsubtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Message is one pulled message, already acknowledged.
type Message struct {
	ID          string
	Data        []byte
	Attributes  map[string]string
	PublishTime time.Time
}

// ClientOptions connect any Google Pub/Sub client to this emulator explicitly, without touching
// the process-wide PUBSUB_EMULATOR_HOST: plaintext gRPC, no credentials.
func (e *Emulator) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(e.host),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// Client is the emulator's own client; Close closes it.
func (e *Emulator) Client() *pubsub.Client { return e.client }

// TopicName is the full resource name of topic id in the emulator's project.
func (e *Emulator) TopicName(id string) string {
	return fmt.Sprintf("projects/%s/topics/%s", e.project, id)
}

// SubscriptionName is the full resource name of subscription id in the emulator's project.
func (e *Emulator) SubscriptionName(id string) string {
	return fmt.Sprintf("projects/%s/subscriptions/%s", e.project, id)
}

// CreateTopic creates topic id.
func (e *Emulator) CreateTopic(ctx context.Context, id string) error {
	_, err := e.client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: e.TopicName(id)})
	if err != nil {
		return fmt.Errorf("create topic %s: %w", id, err)
	}
	return nil
}

// DeleteTopic deletes topic id. The emulator lives as long as the test binary, so tests delete
// what they create and can run again (-count=2).
func (e *Emulator) DeleteTopic(ctx context.Context, id string) error {
	if err := e.client.TopicAdminClient.DeleteTopic(ctx, &pubsubpb.DeleteTopicRequest{Topic: e.TopicName(id)}); err != nil {
		return fmt.Errorf("delete topic %s: %w", id, err)
	}
	return nil
}

// DeleteSubscription deletes subscription id.
func (e *Emulator) DeleteSubscription(ctx context.Context, id string) error {
	if err := e.client.SubscriptionAdminClient.DeleteSubscription(ctx, &pubsubpb.DeleteSubscriptionRequest{Subscription: e.SubscriptionName(id)}); err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, err)
	}
	return nil
}

// CreatePullSubscription creates subscription id on topic, delivering only to Pull.
func (e *Emulator) CreatePullSubscription(ctx context.Context, id, topic string) error {
	return e.createSubscription(ctx, id, topic, nil)
}

// CreatePushSubscription creates subscription id on topic that POSTs each message, in the raw
// push format, to endpoint. The emulator accepts plain http endpoints; production needs https.
func (e *Emulator) CreatePushSubscription(ctx context.Context, id, topic, endpoint string) error {
	return e.createSubscription(ctx, id, topic, &pubsubpb.PushConfig{PushEndpoint: endpoint})
}

func (e *Emulator) createSubscription(ctx context.Context, id, topic string, push *pubsubpb.PushConfig) error {
	_, err := e.client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:               e.SubscriptionName(id),
		Topic:              e.TopicName(topic),
		PushConfig:         push,
		AckDeadlineSeconds: 10,
	})
	if err != nil {
		return fmt.Errorf("create subscription %s on %s: %w", id, topic, err)
	}
	return nil
}

// Publish publishes one message to topic and returns the server-assigned message id once the
// emulator has stored it.
func (e *Emulator) Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	resp, err := e.client.TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{
		Topic:    e.TopicName(topic),
		Messages: []*pubsubpb.PubsubMessage{{Data: data, Attributes: attrs}},
	})
	if err != nil {
		return "", fmt.Errorf("publish to %s: %w", topic, err)
	}
	if len(resp.GetMessageIds()) != 1 {
		return "", fmt.Errorf("publish to %s: got %d message ids, want 1", topic, len(resp.GetMessageIds()))
	}
	return resp.GetMessageIds()[0], nil
}

// Pull collects up to max messages from subscription sub, waiting at most wait for them, and
// acknowledges every message it returns. Fewer than max (even none) is not an error: the caller
// asserts what should have arrived.
func (e *Emulator) Pull(ctx context.Context, sub string, max int, wait time.Duration) ([]Message, error) {
	if max <= 0 {
		return nil, fmt.Errorf("pull %s: max %d, want > 0", sub, max)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	name := e.SubscriptionName(sub)
	var got []Message
	for len(got) < max {
		resp, err := e.client.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{
			Subscription: name,
			MaxMessages:  int32(max - len(got)),
		})
		if ctx.Err() != nil || isDeadline(err) {
			break
		}
		if err != nil {
			return got, fmt.Errorf("pull %s: %w", sub, err)
		}
		var acks []string
		for _, rm := range resp.GetReceivedMessages() {
			m := rm.GetMessage()
			got = append(got, Message{
				ID:          m.GetMessageId(),
				Data:        m.GetData(),
				Attributes:  m.GetAttributes(),
				PublishTime: m.GetPublishTime().AsTime(),
			})
			acks = append(acks, rm.GetAckId())
		}
		if len(acks) == 0 {
			continue
		}
		// Acknowledge even when the wait is over: a returned message must not come back.
		actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = e.client.SubscriptionAdminClient.Acknowledge(actx, &pubsubpb.AcknowledgeRequest{
			Subscription: name,
			AckIds:       acks,
		})
		acancel()
		if err != nil {
			return got, fmt.Errorf("acknowledge %d messages on %s: %w", len(acks), sub, err)
		}
	}
	return got, nil
}

func isDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded
}
