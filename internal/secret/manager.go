package secret

import (
	"context"
	"fmt"
	"hash/crc32"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/option"
)

// SecretManager reads secret versions through the real Secret Manager client.
type SecretManager struct{ c *secretmanager.Client }

// NewSecretManager connects to Secret Manager, or to what opts point at (a local fake through
// cloudrun.EndpointOptions).
func NewSecretManager(ctx context.Context, opts ...option.ClientOption) (*SecretManager, error) {
	c, err := secretmanager.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("create secret manager client: %w", err)
	}
	return &SecretManager{c: c}, nil
}

// Access reads one version and checks its CRC32C checksum when the server sends one.
func (m *SecretManager) Access(ctx context.Context, version string) ([]byte, error) {
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
func (m *SecretManager) Close() error { return m.c.Close() }
