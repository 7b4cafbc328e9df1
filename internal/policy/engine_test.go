package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/policies"
)

func defaultConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Default()
	if err != nil {
		t.Fatalf("config.Default() = %v", err)
	}
	return cfg
}

func bundled(t testing.TB) *policy.Engine {
	t.Helper()
	e, err := policy.New(context.Background(), policies.FS, defaultConfig(t))
	if err != nil {
		t.Fatalf("New(bundled policies) = %v", err)
	}
	return e
}

func TestDecideBundled(t *testing.T) {
	e := bundled(t)
	everyone := []string{"backend-lead@aiprod.ai"}
	tests := []struct {
		name   string
		mutate func(*policy.Input)
		want   decision.Decision
	}{
		{
			name: "high and flat raises memory one step",
			want: decision.Decision{Action: decision.RaiseMemory, Diagnosis: decision.InsufficientMemory,
				Params: decision.Params{Memory: "4Gi"}},
		},
		{
			name: "a step that needs more CPU carries it",
			mutate: func(in *policy.Input) {
				in.Service.Template.Memory, in.Signals.NextMemoryStep, in.Signals.NextMemoryStepCPU = "4Gi", "8Gi", "2"
			},
			want: decision.Decision{Action: decision.RaiseMemory, Diagnosis: decision.InsufficientMemory,
				Params: decision.Params{Memory: "8Gi", CPU: "2"}},
		},
		{
			name: "new revision leaking rolls back",
			mutate: func(in *policy.Input) {
				s := &in.Signals
				s.ServingRevisionAgeMinutes, s.MemoryBeforeServing = 40, 0.41
				s.MemorySlopePerHour, s.RisingMinutes, s.MemoryNow = 0.6, 38, 0.9
				s.GrowthPerHour, s.GrowthMinutes = 0.6, 38
			},
			want: decision.Decision{Action: decision.Rollback, Diagnosis: decision.Regression,
				Params: decision.Params{Revision: "aiprod-api-00041-xyz", Notify: everyone}},
		},
		{
			name: "hours of growth with no restart yet restarts",
			mutate: func(in *policy.Input) {
				in.Signals.GrowthPerHour, in.Signals.GrowthMinutes = 0.05, 170
			},
			want: decision.Decision{Action: decision.Restart, Diagnosis: decision.GradualGrowth,
				Params: decision.Params{Notify: everyone}},
		},
		{
			name: "hours of growth through restarts raises as a stopgap",
			mutate: func(in *policy.Input) {
				in.Signals.GrowthPerHour, in.Signals.GrowthMinutes, in.Signals.Resets = 0.6, 170, 4
			},
			want: decision.Decision{Action: decision.RaiseMemory, Diagnosis: decision.GradualGrowth,
				Params: decision.Params{Memory: "4Gi", Notify: everyone}},
		},
		{
			name:   "request burst lowers concurrency",
			mutate: func(in *policy.Input) { in.Signals.RequestSpike = true },
			want: decision.Decision{Action: decision.LowerConcurrency, Diagnosis: decision.RequestSpike,
				Params: decision.Params{MaxConcurrency: 29, Notify: everyone}},
		},
		{
			name:   "at the ceiling escalates",
			mutate: func(in *policy.Input) { in.Signals.NextMemoryStep = "" },
			want: decision.Decision{Action: decision.Escalate, Diagnosis: decision.InsufficientMemory,
				Params: decision.Params{Notify: everyone}},
		},
		{
			name:   "over budget escalates",
			mutate: func(in *policy.Input) { in.Signals.ActionsLast24h = 3 },
			want: decision.Decision{Action: decision.Escalate, Diagnosis: decision.InsufficientMemory,
				Params: decision.Params{Notify: everyone}},
		},
		{
			name:   "closed incident does nothing",
			mutate: func(in *policy.Input) { in.Incident.State = "closed" },
			want:   decision.Decision{Action: decision.None, Diagnosis: decision.Recovered},
		},
		{
			name:   "no memory data escalates",
			mutate: func(in *policy.Input) { in.Signals.HasMemoryData = false },
			want: decision.Decision{Action: decision.Escalate, Diagnosis: decision.Unknown,
				Params: decision.Params{Notify: everyone}},
		},
		{
			name: "manual labels are refusals",
			mutate: func(in *policy.Input) {
				in.Incident.Labels["remediation"] = "manual"
				in.Service.Labels = map[string]string{"remediation": "manual"}
			},
			want: decision.Decision{Action: decision.RaiseMemory, Diagnosis: decision.InsufficientMemory,
				Params: decision.Params{Memory: "4Gi"},
				Deny: []string{
					"alert policy label remediation=manual: runmedic only plans",
					"service aiprod-api has label remediation=manual: runmedic only plans",
				}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Decide(context.Background(), input(tt.mutate))
			if err != nil {
				t.Fatalf("Decide() = %v", err)
			}
			tt.want.Policy = "runmedic.oom"
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(decision.Decision{}, "Reason", "Evidence")); diff != "" {
				t.Errorf("Decide() (-want +got):\n%s", diff)
			}
			if got.Reason == "" || len(got.Evidence) == 0 {
				t.Errorf("Decide() reason %q, evidence %q: want both", got.Reason, got.Evidence)
			}
		})
	}
}

// TestDecideInputForms: a struct, a map and raw JSON of the same input decide the same.
func TestDecideInputForms(t *testing.T) {
	e := bundled(t)
	in := input(nil)
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	want, err := e.Decide(context.Background(), in)
	if err != nil {
		t.Fatalf("Decide(struct) = %v", err)
	}
	for name, form := range map[string]any{"map": m, "bytes": raw, "raw message": json.RawMessage(raw)} {
		got, err := e.Decide(context.Background(), form)
		if err != nil {
			t.Fatalf("Decide(%s) = %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Decide(%s) (-struct +%s):\n%s", name, name, diff)
		}
	}
	if _, err := e.Decide(context.Background(), []byte(`[1]`)); err == nil || !strings.Contains(err.Error(), "want a JSON object") {
		t.Errorf("Decide([1]) = %v, want an error about the JSON object", err)
	}
}

func TestDecideEvidenceNamesNumbers(t *testing.T) {
	got, err := bundled(t).Decide(context.Background(), input(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := "memory p99 0.93 (threshold 0.85) for 34 minutes, peak 0.93"
	if len(got.Evidence) == 0 || got.Evidence[0] != want {
		t.Errorf("Decide().Evidence = %q, want first %q", got.Evidence, want)
	}
}

// policyFS is a one-file policy in package runmedic.oom.
func policyFS(body string) fstest.MapFS {
	return fstest.MapFS{"p.rego": {Data: []byte("package runmedic.oom\n\n" + body + "\n")}}
}

func TestDecideRejects(t *testing.T) {
	tests := []struct {
		name, policy, want string
	}{
		{"unknown action", `decision := {"action": "reboot", "diagnosis": "unknown", "reason": "r"}`, `unknown action "reboot"`},
		{"unknown diagnosis", `decision := {"action": "none", "diagnosis": "gremlins", "reason": "r"}`, `unknown diagnosis "gremlins"`},
		{"missing reason", `decision := {"action": "none", "diagnosis": "unknown"}`, `reason: missing`},
		{"rollback without revision", `decision := {"action": "rollback", "diagnosis": "regression", "reason": "r", "params": {}}`, `rollback needs params.revision`},
		{"raise_memory without memory", `decision := {"action": "raise_memory", "diagnosis": "insufficient_memory", "reason": "r"}`, `raise_memory needs params.memory`},
		{"raise_memory bad memory", `decision := {"action": "raise_memory", "diagnosis": "insufficient_memory", "reason": "r", "params": {"memory": "lots"}}`, `params.memory: memory "lots"`},
		{"bad cpu", `decision := {"action": "raise_memory", "diagnosis": "insufficient_memory", "reason": "r", "params": {"memory": "4Gi", "cpu": "two"}}`, `params.cpu: cpu "two"`},
		{"memory not a string", `decision := {"action": "raise_memory", "diagnosis": "insufficient_memory", "reason": "r", "params": {"memory": 4096}}`, `params.memory: want a string, got the number 4096`},
		{"zero concurrency", `decision := {"action": "lower_concurrency", "diagnosis": "request_spike", "reason": "r", "params": {"max_concurrency": 0}}`, `lower_concurrency needs params.max_concurrency >= 1, got 0`},
		{"fractional concurrency", `decision := {"action": "lower_concurrency", "diagnosis": "request_spike", "reason": "r", "params": {"max_concurrency": 2.5}}`, `params.max_concurrency: want an integer, got the number 2.5`},
		{"evidence not strings", `decision := {"action": "none", "diagnosis": "unknown", "reason": "r", "evidence": ["a", 1]}`, `evidence[1]: want a string, got the number 1`},
		{"unknown param", `decision := {"action": "none", "diagnosis": "unknown", "reason": "r", "params": {"memroy": "4Gi"}}`, `params: unknown key "memroy"`},
		{"unknown key", `decision := {"action": "none", "diagnosis": "unknown", "reason": "r", "why": "x"}`, `unknown key "why"`},
		{"not an object", `decision := "raise"`, `want an object, got the string "raise"`},
		{"empty notify", `decision := {"action": "escalate", "diagnosis": "unknown", "reason": "r", "params": {"notify": [""]}}`, `params.notify[0]: empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := policy.New(context.Background(), policyFS(tt.policy), defaultConfig(t))
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			_, err = e.Decide(context.Background(), input(nil))
			var invalid *policy.InvalidDecisionError
			if !errors.As(err, &invalid) {
				t.Fatalf("Decide() = %v, want an *InvalidDecisionError", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "policy runmedic.oom: invalid decision: ") {
				t.Errorf("Decide() = %q, want it to name %q", err, tt.want)
			}
		})
	}
}

func TestDecideUndefined(t *testing.T) {
	e, err := policy.New(context.Background(), policyFS(`decision := {"action": "none", "diagnosis": "unknown", "reason": "r"} if input.never`), defaultConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Decide(context.Background(), input(nil))
	if !errors.Is(err, policy.ErrUndefined) {
		t.Fatalf("Decide() = %v, want ErrUndefined", err)
	}
	if want := "policy runmedic.oom: decision is undefined for this input"; err.Error() != want {
		t.Errorf("Decide() = %q, want %q", err, want)
	}
}

// TestDecideStopsWhenContextIsDone holds a long evaluation to its context: it ends with OPA's
// cancellation error soon after the deadline, not when the policy is done.
func TestDecideStopsWhenContextIsDone(t *testing.T) {
	src := `decision := {"action": "none", "diagnosis": "unknown", "reason": sprintf("%d", [count([x | some x in numbers.range(1, 100000000); x % 7 == 0])])}`
	e, err := policy.New(context.Background(), policyFS(src), defaultConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = e.Decide(ctx, input(nil))
	if !topdown.IsCancel(errors.Unwrap(err)) {
		t.Fatalf("Decide() = %v, want a cancellation", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Decide() returned %v after the start, long after its 20ms deadline", took)
	}
}

func TestDecideConflictIsAnError(t *testing.T) {
	src := `decision := {"action": "none", "diagnosis": "unknown", "reason": "a"} if input.version == 1

decision := {"action": "none", "diagnosis": "unknown", "reason": "b"} if input.version == 1`
	e, err := policy.New(context.Background(), policyFS(src), defaultConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Decide(context.Background(), input(nil)); err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Errorf("Decide() = %v, want a conflict error", err)
	}
}

func TestDecideOtherPackageAndSortedDeny(t *testing.T) {
	fsys := fstest.MapFS{
		"other.rego": {Data: []byte(`package runmedic.other

decision := {"action": "escalate", "diagnosis": "unknown", "reason": data.runmedic.config.defaults.mode}

deny contains "zeta"

deny contains "alpha"
`)},
		"broken_test.rego": {Data: []byte("package broken_test\n\ntest_x if {")},
	}
	e, err := policy.New(context.Background(), fsys, defaultConfig(t), policy.WithPackage("runmedic.other"))
	if err != nil {
		t.Fatalf("New(WithPackage) = %v (test files must not be loaded)", err)
	}
	got, err := e.Decide(context.Background(), input(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := decision.Decision{Action: decision.Escalate, Diagnosis: decision.Unknown, Reason: "enforce",
		Policy: "runmedic.other", Deny: []string{"alpha", "zeta"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decide() (-want +got):\n%s", diff)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		opts []policy.Option
		want string
	}{
		{"syntax error", fstest.MapFS{"dir/bad.rego": {Data: []byte("package runmedic.oom\n\ndecision := {\n")}}, nil, "dir/bad.rego:4:0: rego_parse_error: unexpected eof token"},
		{"unsafe variable", policyFS(`decision := x if { y := 1 }`), nil, "p.rego:3:"},
		{"unknown function", policyFS(`decision := nosuch(1)`), nil, "p.rego:3:13: rego_type_error: undefined function nosuch"},
		{"no such package", policyFS(`x := 1`), []policy.Option{policy.WithPackage("runmedic.cpu")}, "policy package runmedic.cpu: no module declares it"},
		{"bad package name", policyFS(`x := 1`), []policy.Option{policy.WithPackage("runmedic.oom; true")}, `policy package "runmedic.oom; true": want a dotted name`},
		{"no policies", fstest.MapFS{"README.md": {Data: []byte("x")}}, nil, "no .rego files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := policy.New(context.Background(), tt.fsys, defaultConfig(t), tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSyntaxErrorIsRegoError(t *testing.T) {
	_, err := policy.New(context.Background(), fstest.MapFS{"bad.rego": {Data: []byte("package runmedic.oom\n\nx := [\n")}}, defaultConfig(t))
	var re *policy.RegoError
	if !errors.As(err, &re) || len(re.Errors) == 0 || !strings.HasPrefix(re.Errors[0], "bad.rego:") {
		t.Fatalf("New() = %v, want a *RegoError positioned in bad.rego", err)
	}
}

// TestDecideConcurrently shares one engine across goroutines, as the function does; run with
// -race.
func TestDecideConcurrently(t *testing.T) {
	e := bundled(t)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			in := input(func(in *policy.Input) { in.Signals.RequestSpike = i%2 == 0 })
			_, err := e.Decide(context.Background(), in)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Errorf("Decide() = %v", err)
		}
	}
}
