package ledger

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Warm makes the store's first request, a read of fleet/limits, so that the connection to
// Firestore is open (and, outside the emulator, the first access token fetched) before the first
// delivery needs them: an instance calls it beside its start-up work, whose time it then hides.
// It costs one document read.
func (s *Store) Warm(ctx context.Context) error {
	if _, err := s.fleet().Get(ctx); err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("warm the ledger's connection: %w", err)
	}
	return nil
}
