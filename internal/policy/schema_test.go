package policy_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/policies"
)

var update = flag.Bool("update", false, "rewrite policies/input.schema.json from the Go input types")

// TestInputSchemaFile keeps policies/input.schema.json what the Go input types say. A new signal
// or snapshot field changes the schema: regenerate the file, as the failure says.
func TestInputSchemaFile(t *testing.T) {
	path := filepath.Join("..", "..", "policies", policy.InputSchemaFile)
	got, err := policy.InputSchemaJSON()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v; write it with: go test ./internal/policy -run TestInputSchemaFile -update", path, err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("policies/%s is stale: the Go input types changed (a new signal or snapshot field?).\n"+
			"Regenerate it with: go test ./internal/policy -run TestInputSchemaFile -update\n(-file +types):\n%s",
			policy.InputSchemaFile, cmp.Diff(string(want), string(got)))
	}
}

func TestInputSchemaNamesEverySignal(t *testing.T) {
	signals := policy.InputSchema()["properties"].(map[string]any)["signals"].(map[string]any)
	props := signals["properties"].(map[string]any)
	for _, name := range []string{"memory_now", "memory_limit_mib", "next_memory_step", "minutes_since_last_action"} {
		if _, ok := props[name]; !ok {
			t.Errorf("input schema: signals lacks %s", name)
		}
	}
	if signals["additionalProperties"] != false {
		t.Errorf("input schema: signals is open; a misspelt signal would not be an error")
	}
}

func TestCheck(t *testing.T) {
	const tests = "package runmedic.oom_test\n\ntest_x := true\n"
	cases := []struct {
		name  string
		files map[string]string
		want  []string // Finding.String() of each, in order
	}{
		{"the bundled policies are clean", nil, nil},
		{"a misspelt signal and label", map[string]string{
			"typo.rego":      "package runmedic.oom\n\nhigh if input.signals.memroy_now > 0.9\n\nteam := input.service.lables.team\n",
			"typo_test.rego": tests,
		}, []string{
			"typo.rego:3: schema: rego_type_error: undefined ref: input.signals.memroy_now",
			"typo.rego:5: schema: rego_type_error: undefined ref: input.service.lables.team",
		}},
		{"an unused variable", map[string]string{
			"unused.rego":      "package runmedic.oom\n\nflag if {\n\tx := 1\n\tinput.signals.memory_now > 0.9\n}\n",
			"unused_test.rego": tests,
		}, []string{"unused.rego:4: strict: rego_compile_error: assigned var x unused"}},
		{"not formatted", map[string]string{
			"ugly.rego":      "package runmedic.oom\nugly   if   input.signals.memory_now>0.9\n",
			"ugly_test.rego": tests,
		}, []string{"ugly.rego: fmt: not formatted as `opa fmt` would; `opa fmt -w ugly.rego` rewrites it"}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			fsys := bundledFiles(t)
			for name, src := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			got, err := policy.Check(fsys)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, f := range got {
				lines = append(lines, f.String())
			}
			for i := range lines {
				if i < len(tt.want) && strings.HasPrefix(lines[i], tt.want[i]) {
					lines[i] = tt.want[i] // OPA may add detail after the path
				}
			}
			if diff := cmp.Diff(tt.want, lines); diff != "" {
				t.Errorf("Check findings (-want +got):\n%s", diff)
			}
		})
	}
}

// bundledFiles is a copy of the bundled policies as a MapFS to add files to.
func bundledFiles(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	for _, name := range []string{"oom.rego", "oom_test.rego"} {
		b, err := policies.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = &fstest.MapFile{Data: b}
	}
	return out
}
