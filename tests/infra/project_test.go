package infra_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// loadProject parses infra/modules/managed-project, the module each managed project gets.
func loadProject(t *testing.T) *module {
	t.Helper()
	return loadDir(t, filepath.Join(infraDir(t), "modules", "managed-project"))
}

// projectGrants lists the module's IAM member resources. A role that is not a literal (the
// custom role) is named by the resource it refers to; the member by the variable or local.
func projectGrants(t *testing.T, m *module) []grant {
	t.Helper()
	var out []grant
	for _, b := range m.all("resource") {
		typ := b.Labels[0]
		switch {
		case strings.HasSuffix(typ, "_iam_binding"), strings.HasSuffix(typ, "_iam_policy"):
			t.Errorf("%s is authoritative; use an _iam_member", blockName(b))
		case strings.HasSuffix(typ, "_iam_member"):
			g := grant{Type: typ, Role: target(attr(b, "role").Expr), Member: target(attr(b, "member").Expr)}
			if v := m.value(t, b, "role", nil); v.IsKnown() {
				g.Role = v.AsString()
			}
			for _, on := range []string{"topic", "service_account_id", "project"} {
				if a := attr(b, on); a != nil {
					g.On = target(a.Expr)
					break
				}
			}
			out = append(out, g)
		}
	}
	return out
}

// TestManagedProjectGrants pins every grant the module makes in (or for) a managed project.
func TestManagedProjectGrants(t *testing.T) {
	m := loadProject(t)
	want := []grant{
		// Runtime: read, list and update Cloud Run services, follow operations (custom role).
		{"google_project_iam_member", "google_project_iam_custom_role.remediator", "var.runtime_member", "var.project_id"},
		// Runtime: act as the runtime accounts of the services that may opt in.
		{"google_service_account_iam_member", "roles/iam.serviceAccountUser", "var.runtime_member", "each.value"},
		// Runtime: memory series and snoozes; OOM-kill log entries. No narrower scope exists.
		{"google_project_iam_member", "roles/monitoring.viewer", "var.runtime_member", "var.project_id"},
		{"google_project_iam_member", "roles/logging.viewer", "var.runtime_member", "var.project_id"},
		// The project's Monitoring notification agent publishes to the central alert topic.
		{"google_pubsub_topic_iam_member", "roles/pubsub.publisher", "local.monitoring_notification_agent", "local.alert_topic_name"},
	}
	got := projectGrants(t, m)
	order := func(a, b grant) int {
		return strings.Compare(a.Type+a.Role+a.Member+a.On, b.Type+b.Role+b.Member+b.On)
	}
	slices.SortFunc(got, order)
	slices.SortFunc(want, order)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("managed-project IAM grants differ (-want +got):\n%s", diff)
	}

	role := m.resource(t, "google_project_iam_custom_role", "remediator")
	if !refersTo(t, role, "permissions", "local.run_permissions") {
		t.Fatal("the custom role's permissions are not local.run_permissions")
	}
	var perms []string
	for _, v := range m.locals["run_permissions"].AsValueSlice() {
		perms = append(perms, v.AsString())
	}
	wantPerms := []string{"run.operations.get", "run.revisions.get", "run.revisions.list", "run.services.get", "run.services.list", "run.services.update"}
	if diff := cmp.Diff(wantPerms, perms); diff != "" {
		t.Errorf("custom role permissions (-want +got):\n%s", diff)
	}
	user := m.resource(t, "google_service_account_iam_member", "runtime_acts_as")
	if !refersTo(t, user, "for_each", "local.service_accounts") {
		t.Error("iam.serviceAccountUser is not granted per listed runtime account")
	}
	pub := m.resource(t, "google_pubsub_topic_iam_member", "alert_monitoring_publisher")
	if !refersTo(t, pub, "project", "local.alert_topic_project") {
		t.Error("the publish grant is not on the central topic's project")
	}
	agent := sourceOf(m, "monitoring_notification_agent")
	if want := `"service-${data.google_project.managed.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"`; agent != want {
		t.Errorf("local.monitoring_notification_agent = %s, want the managed project's agent %s", agent, want)
	}
	for f, src := range m.src {
		low := strings.ToLower(string(src))
		for _, p := range []string{"allusers", "allauthenticatedusers", "roles/owner", "roles/editor", "roles/viewer", "roles/run.admin", "roles/run.developer"} {
			if strings.Contains(low, p) {
				t.Errorf("%s mentions %s", filepath.Base(f), p)
			}
		}
	}
}

// sourceOf is the source text of a local's expression.
func sourceOf(m *module, local string) string {
	for _, b := range m.all("locals") {
		if a := attr(b, local); a != nil {
			r := a.Expr.Range()
			return string(r.SliceBytes(m.src[r.Filename]))
		}
	}
	return ""
}

// TestManagedProjectAlerts checks the project's memory alerts have the runbook's thresholds, come
// from the memory-alerts module the central project uses, and are sent through a channel to the
// central topic.
func TestManagedProjectAlerts(t *testing.T) {
	m := loadProject(t)
	for name, want := range map[string]cty.Value{
		"memory_threshold_remediation": cty.NumberFloatVal(runbookAlert),
		"memory_threshold_critical":    cty.NumberFloatVal(runbookCritical),
		"alert_duration":               cty.StringVal("300s"),
	} {
		if got := m.vars[name]; !got.RawEquals(want) {
			t.Errorf("%s default = %#v, want %#v", name, got, want)
		}
	}
	ch := m.resource(t, "google_monitoring_notification_channel", "alert_topic")
	if got := m.str(t, ch, "type"); got != "pubsub" {
		t.Errorf("channel type = %q, want pubsub", got)
	}
	if !refersTo(t, ch, "labels", "var.alert_topic_id") || !refersTo(t, ch, "project", "var.project_id") {
		t.Error("the channel is not in the managed project pointing at the central topic")
	}

	checkAlertsCall(t, m, "../memory-alerts", "var.services")
}

// TestManagedProjectsCall checks the root module instantiates the module once per entry of
// managed_projects, with every variable the module requires and none it does not have, and that
// the deployment's own project stays managed when the map is empty (its default).
func TestManagedProjectsCall(t *testing.T) {
	root, mod := load(t), loadProject(t)
	var call *hclsyntax.Block
	for _, b := range root.all("module") {
		if b.Labels[0] == "managed_project" {
			call = b
		}
	}
	if call == nil {
		t.Fatal("infra/ has no module \"managed_project\"")
	}
	if got := root.str(t, call, "source"); got != "./modules/managed-project" {
		t.Errorf("source = %q", got)
	}
	if !refersTo(t, call, "for_each", "var.managed_projects") || !refersTo(t, call, "project_id", "each.key") {
		t.Error("the module is not instantiated per managed_projects entry")
	}
	if !refersTo(t, call, "alert_topic_id", "google_pubsub_topic.alert") || !refersTo(t, call, "runtime_member", "google_service_account.runtime") {
		t.Error("the module is not given the central alert topic and the runtime account")
	}
	if got := root.vars["managed_projects"]; !got.IsKnown() || got.LengthInt() != 0 {
		t.Errorf("managed_projects default = %#v, want {} (only project_id)", got)
	}
	vars := map[string]bool{}
	for _, v := range mod.all("variable") {
		vars[v.Labels[0]] = attr(v, "default") != nil
		if attr(v, "description") == nil {
			t.Errorf("module %s has no description", blockName(v))
		}
	}
	for name := range call.Body.Attributes {
		if _, ok := vars[name]; !ok && name != "source" && name != "for_each" {
			t.Errorf("the call sets %s, which the module does not declare", name)
		}
	}
	for name, hasDefault := range vars {
		if _, set := call.Body.Attributes[name]; !hasDefault && !set {
			t.Errorf("the call does not set the module's required %s", name)
		}
	}
}

// TestReadmeTwoProjects parses the tfvars of the README's two-project layout: every name is a
// variable of infra/, and each managed project entry has only the fields the variable's type
// declares.
func TestReadmeTwoProjects(t *testing.T) {
	src := readFile(t, filepath.Join("..", "..", "README.md"))
	_, rest, ok := strings.Cut(src, "<!-- two-projects:start -->")
	block, _, ok2 := strings.Cut(rest, "<!-- two-projects:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no two-projects:start/end block")
	}
	_, tfvars, _ := strings.Cut(block, "```hcl\n")
	tfvars, _, _ = strings.Cut(tfvars, "```")
	f, diags := hclparse.NewParser().ParseHCL([]byte(tfvars), "README.md")
	if diags.HasErrors() {
		t.Fatalf("README tfvars: %s", diags.Error())
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		t.Fatalf("README tfvars: %s", diags.Error())
	}
	root := load(t)
	for name, a := range attrs {
		if _, ok := root.vars[name]; !ok {
			t.Errorf("README tfvars sets %s, which infra/ does not declare", name)
		}
		if name != "managed_projects" {
			continue
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || v.LengthInt() == 0 {
			t.Fatalf("managed_projects = %#v (%s), want at least one project", v, diags.Error())
		}
		for project, entry := range v.AsValueMap() {
			for field := range entry.AsValueMap() {
				if field != "services" && field != "service_accounts" {
					t.Errorf("managed_projects[%q].%s is not a field of the variable", project, field)
				}
			}
		}
	}
	if _, ok := attrs["managed_projects"]; !ok {
		t.Error("README tfvars does not set managed_projects")
	}
}
