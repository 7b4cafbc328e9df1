package clients

import (
	"context"

	"github.com/runmedic/runmedic/internal/ledger"
)

// Ledger opens runmedic's ledger: the Firestore database RUNMEDIC_FIRESTORE_DATABASE (default
// "runmedic") of GOOGLE_CLOUD_PROJECT, or the emulator at FIRESTORE_EMULATOR_HOST.
func Ledger(ctx context.Context, getenv func(string) string) (*ledger.Store, error) {
	return ledger.OpenFromEnv(ctx, getenv)
}
