// Package function is a stand-in with the shape of the real function package: declarative
// registration in init, imports of internal packages and of the embedded policies.
package function

import (
	"context"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/runmedic/runmedic/internal/probe"
	"github.com/runmedic/runmedic/policies"
)

func init() {
	functions.CloudEvent("Remediate", remediate)
}

func remediate(ctx context.Context, e event.Event) error {
	_, err := policies.FS.ReadFile("data/config.yaml")
	_ = probe.Name
	return err
}
