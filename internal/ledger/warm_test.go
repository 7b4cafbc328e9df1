package ledger_test

import (
	"context"
	"testing"

	"github.com/runmedic/runmedic/internal/firestoretest"
)

// TestWarm: warming a ledger that holds nothing yet succeeds (fleet/limits is missing), and one
// whose client is closed says so.
func TestWarm(t *testing.T) {
	s := firestoretest.Shared(t).Store(t)
	if err := s.Warm(context.Background()); err != nil {
		t.Fatalf("Warm on an empty ledger = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Warm(context.Background()); err == nil {
		t.Error("Warm on a closed store = nil, want an error")
	}
}
