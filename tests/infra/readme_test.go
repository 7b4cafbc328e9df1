package infra_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/runmedic/runmedic/internal/cloudrun"
)

// TestReadmeIgnoreChanges parses the lifecycle block the README tells users to add and checks
// it covers every field runmedic writes, with the annotation keys the adapter really uses.
func TestReadmeIgnoreChanges(t *testing.T) {
	readme := readFile(t, filepath.Join(infraDir(t), "README.md"))
	var block string
	for _, m := range regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatch(readme, -1) {
		if strings.Contains(m[1], "ignore_changes") {
			block = m[1]
		}
	}
	if block == "" {
		t.Fatal("infra/README.md has no hcl block with ignore_changes")
	}
	f, diags := hclsyntax.ParseConfig([]byte(block), "README.md", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("README hcl block does not parse: %s", diags.Error())
	}
	var got []string
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" || len(b.Labels) != 2 || b.Labels[0] != "google_cloud_run_v2_service" {
			continue
		}
		for _, lc := range nested(b, "lifecycle") {
			a := attr(lc, "ignore_changes")
			if a == nil {
				continue
			}
			tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr)
			if !ok {
				t.Fatalf("ignore_changes is not a list")
			}
			for _, e := range tuple.Exprs {
				tr, diags := hcl.AbsTraversalForExpr(e)
				if diags.HasErrors() {
					t.Fatalf("ignore_changes entry is not a reference: %s", diags.Error())
				}
				got = append(got, render(tr))
			}
		}
	}
	want := []string{
		`template[0].containers[0].resources[0].limits["memory"]`,       // template.memory
		`template[0].containers[0].resources[0].limits["cpu"]`,          // template.cpu
		`template[0].max_instance_request_concurrency`,                  // template.max_concurrency
		`template[0].annotations["` + cloudrun.RestartAnnotation + `"]`, // template.restart
		`traffic`, // rollbacks
		`annotations["` + cloudrun.StateAnnotation + `"]`, // runmedic's state
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README ignore_changes (-want +got):\n%s", diff)
	}
}

func render(tr hcl.Traversal) string {
	var sb strings.Builder
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			sb.WriteString(s.Name)
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type().FriendlyName() == "string" {
				sb.WriteString(`["` + s.Key.AsString() + `"]`)
			} else {
				sb.WriteString("[" + s.Key.AsBigFloat().Text('f', 0) + "]")
			}
		}
	}
	return sb.String()
}

// TestReadmeNamesWhatTheFunctionReads keeps the README's names in step with the module.
func TestReadmeNamesWhatTheFunctionReads(t *testing.T) {
	readme := readFile(t, filepath.Join(infraDir(t), "README.md"))
	m := load(t)
	for _, name := range []string{"env_audit_topic", "env_notify_topic", "env_config", "env_policies", "env_project", "tick_attribute", "tick_value", "entry_point"} {
		v := m.locals[name]
		if !v.IsKnown() || v.IsNull() {
			t.Fatalf("local.%s is not a known string", name)
		}
		if !strings.Contains(readme, v.AsString()) {
			t.Errorf("infra/README.md does not mention %s (local.%s)", v.AsString(), name)
		}
	}
	for _, name := range []string{"project_id", "region", "managed_services", "./deploy.sh --with terraform"} {
		if !strings.Contains(readme, name) {
			t.Errorf("infra/README.md does not mention %s", name)
		}
	}
}
