package secret_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/secret"
	"github.com/runmedic/runmedic/internal/secretmanager"
	"github.com/runmedic/runmedic/internal/secretmanagertest"
)

func TestResolve(t *testing.T) {
	ctx := context.Background()
	fake := secretmanagertest.New(t)
	const pd = "projects/p1/secrets/pd-backend"
	fake.AddVersion(pd, "R0UTINGKEY1")
	fake.AddVersion(pd, "R0UTINGKEY2\n")
	fake.AddVersion(pd, "R0UTINGKEY3")
	fake.Disable(pd, 3)
	fake.AddVersion("projects/p1/secrets/denied", "nope")
	fake.Deny("projects/p1/secrets/denied")
	sm, err := secretmanager.New(ctx, cloudrun.EndpointOptions(fake.Addr())...)
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	r := secret.Resolver{Getenv: func(k string) string { return map[string]string{"HOOK": "https://hooks.slack.com/services/T/B/X"}[k] }, Secrets: sm}

	for _, tc := range []struct{ ref, want string }{
		{"env:HOOK", "https://hooks.slack.com/services/T/B/X"},
		{"secret:" + pd + "/versions/1", "R0UTINGKEY1"},
		{"secret:" + pd + "/versions/latest", "R0UTINGKEY2"}, // 3 is disabled
	} {
		v, err := r.Resolve(ctx, tc.ref)
		if err != nil || v.Reveal() != tc.want {
			t.Errorf("Resolve(%q) = %q, %v, want %q", tc.ref, v.Reveal(), err, tc.want)
		}
	}
	for _, tc := range []struct{ ref, wantErr string }{
		{"env:UNSET", "env:UNSET: environment variable is not set"},
		{"secret:" + pd + "/versions/3", "FailedPrecondition"},
		{"secret:" + pd + "/versions/9", "NotFound"},
		{"secret:projects/p1/secrets/denied/versions/latest", "PermissionDenied"},
		{"secret:projects/p1/secrets/none/versions/latest", "NotFound"},
		{"secret:projects/p1/versions/1", "want secret:projects/P/secrets/S/versions/V"},
		{"R0UTINGKEYLITERAL", "a literal credential is not allowed"},
		{"https://hooks.slack.com/services/T/B/LITERAL", "a literal credential is not allowed"},
	} {
		_, err := r.Resolve(ctx, tc.ref)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("Resolve(%q) error = %v, want it to contain %q", tc.ref, err, tc.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "LITERAL") {
			t.Errorf("Resolve(%q) error %q repeats the credential", tc.ref, err)
		}
	}
}

func TestValueRedacted(t *testing.T) {
	v := secret.Literal("s3cr3t-key")
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "key", v)
	js, _ := json.Marshal(struct{ K secret.Value }{v})
	for name, got := range map[string]string{
		"%v": fmt.Sprintf("%v", v), "%s": fmt.Sprintf("[%s]", v), "%#v": fmt.Sprintf("%#v", v),
		"%+v struct": fmt.Sprintf("%+v", struct{ K secret.Value }{v}),
		"json":       string(js), "slog": logged.String(),
	} {
		if strings.Contains(got, "s3cr3t") || !strings.Contains(got, secret.Redacted) {
			t.Errorf("%s = %q, want it redacted", name, got)
		}
	}
	if v.Reveal() != "s3cr3t-key" {
		t.Errorf("Reveal() = %q", v.Reveal())
	}
}
