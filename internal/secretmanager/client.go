// Package secretmanager reads secret versions through the real Secret Manager client, for
// secret.Resolver: the only part of secret handling that talks to Google Cloud.
package secretmanager

import (
	"context"
	"fmt"
	"hash/crc32"

	sm "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
)

// Client reads secret versions. It is a secret.Accessor.
type Client struct{ c *sm.Client }

// New connects to Secret Manager, or to what opts point at (a local fake through
// cloudrun.EndpointOptions).
func New(ctx context.Context, opts ...option.ClientOption) (*Client, error) {
	c, err := sm.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("create secret manager client: %w", err)
	}
	return &Client{c: c}, nil
}

// Access reads one version and checks its CRC32C checksum when the server sends one.
func (m *Client) Access(ctx context.Context, version string) ([]byte, error) {
	resp, err := m.c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: version})
	if err != nil {
		return nil, fmt.Errorf("access secret version: %w", err)
	}
	data := resp.GetPayload().GetData()
	if c := resp.GetPayload().DataCrc32C; c != nil {
		if int64(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))) != *c {
			return nil, fmt.Errorf("access secret version: checksum mismatch")
		}
	}
	return data, nil
}

// Close releases the connection.
func (m *Client) Close() error { return m.c.Close() }
