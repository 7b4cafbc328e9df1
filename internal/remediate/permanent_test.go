package remediate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestPermanentIsNotInMessages: the class steers ack or retry; people see only what went wrong.
func TestPermanentIsNotInMessages(t *testing.T) {
	cause := errors.New("policy runmedic.oom: decision is undefined for this input")
	err := fmt.Errorf("decide: %w", permanent(cause))
	if !IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false, want true", err)
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(%v, cause) = false: the cause must stay reachable", err)
	}
	if strings.Contains(err.Error(), "permanent") {
		t.Errorf("error message %q names the internal class", err)
	}
	if IsPermanent(cause) {
		t.Errorf("IsPermanent(unwrapped cause) = true, want false")
	}
}
