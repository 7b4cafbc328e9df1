package policy_test

import (
	"context"
	"os"
	"testing"

	"github.com/runmedic/runmedic/internal/policy"
)

func TestTmpFailure(t *testing.T) {
	rep, err := policy.Test(context.Background(), os.DirFS("/tmp/pa"), defaultConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Tests {
		if r.Outcome != policy.Pass {
			t.Logf("%s %s:%d\n%s", r.Name, r.File, r.Line, r.Message)
		}
	}
}
