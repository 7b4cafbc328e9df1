package snapshot

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestRetryable(t *testing.T) {
	base := errors.New("rpc error: code = Unavailable")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"unmarked", base, false},
		{"marked", Transient(base), true},
		{"marked, then wrapped", fmt.Errorf("get service s: %w", Transient(base)), true},
		{"deadline", fmt.Errorf("read: %w", context.DeadlineExceeded), true},
		{"canceled", context.Canceled, true},
		{"marked conflict", Transient(fmt.Errorf("%w: etag moved", ErrConflict)), false},
		{"marked not ready", Transient(ErrRevisionNotReady), false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%s: %v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// TestTransientKeepsTheError: the mark adds a class and takes nothing away.
func TestTransientKeepsTheError(t *testing.T) {
	base := fmt.Errorf("apply: %w", ErrNotSent)
	err := Transient(base)
	if err.Error() != base.Error() || !errors.Is(err, ErrNotSent) || !errors.Is(err, ErrTransient) || errors.Unwrap(err) != base {
		t.Errorf("Transient(%v) = %v: want the same message, still ErrNotSent, now ErrTransient", base, err)
	}
	if Transient(nil) != nil {
		t.Errorf("Transient(nil) != nil")
	}
}
