package infra_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"sigs.k8s.io/yaml"
)

// Runbook thresholds (RUNBOOK-memory-oom.md, "Memory Usage Patterns"): "85% of limit: Alert
// triggered", "95% of limit: Service degrading". The verification threshold is the config's
// defaults.verify_below (policies/data/config.yaml), which must sit below the alert.
const (
	runbookAlert    = 0.85
	runbookCritical = 0.95
)

func TestFormatted(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Fatal("terraform is required for this test and is not on PATH")
	}
	cmd := exec.Command(tf, "fmt", "-check", "-recursive", "-diff", infraDir(t))
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("terraform fmt -check -recursive infra: %v\n%s", err, out)
	}
}

func TestVersions(t *testing.T) {
	m := load(t)
	tfs := m.all("terraform")
	if len(tfs) != 1 {
		t.Fatalf("%d terraform blocks, want 1", len(tfs))
	}
	if got := m.str(t, tfs[0], "required_version"); got != ">= 1.5" {
		t.Errorf("required_version = %q, want >= 1.5 (check blocks)", got)
	}
	p := m.value(t, tfs[0], "required_providers.google", nil)
	if got := p.GetAttr("source").AsString(); got != "hashicorp/google" {
		t.Errorf("google source = %q", got)
	}
	if got := p.GetAttr("version").AsString(); got != ">= 6.0" {
		t.Errorf("google version = %q, want >= 6.0", got)
	}
}

func TestNoPublicPrincipals(t *testing.T) {
	m := load(t)
	for f, src := range m.src {
		for _, p := range []string{"allusers", "allauthenticatedusers"} {
			if strings.Contains(strings.ToLower(string(src)), p) {
				t.Errorf("%s mentions %s", filepath.Base(f), p)
			}
		}
	}
}

// TestNoPrimitiveRoles checks every role attribute, in every block, is a literal that is not
// owner, editor or viewer.
func TestNoPrimitiveRoles(t *testing.T) {
	m := load(t)
	primitive := regexp.MustCompile(`^roles/(owner|editor|viewer)$`)
	n := 0
	for _, b := range m.blocks {
		walk(b, func(b *hclsyntax.Block) {
			for name := range b.Body.Attributes {
				if name != "role" && name != "roles" {
					continue
				}
				n++
				if customRole(b.Body.Attributes[name].Expr) != "" {
					continue // pinned permission by permission in TestCustomRoles
				}
				v := m.value(t, b, name, nil)
				if !v.IsWhollyKnown() {
					t.Errorf("%s: role is not a literal", blockName(b))
					continue
				}
				if v.Type() == cty.String && primitive.MatchString(v.AsString()) {
					t.Errorf("%s: primitive role %s", blockName(b), v.AsString())
				}
			}
		})
	}
	for f, src := range m.src {
		if loc := regexp.MustCompile(`roles/(owner|editor|viewer)\b`).FindIndex(src); loc != nil {
			t.Errorf("%s mentions %s", filepath.Base(f), src[loc[0]:loc[1]])
		}
	}
	if n == 0 {
		t.Fatal("no role attributes found: the walk is broken")
	}
}

// grant is one IAM member resource: what is granted to whom, on what.
type grant struct {
	Type, Role, Member, On string
}

// grants lists every *_iam_member, refusing authoritative *_iam_binding and *_iam_policy
// resources, which would overwrite grants made by others.
func grants(t *testing.T, m *module) []grant {
	t.Helper()
	var out []grant
	for _, b := range m.all("resource") {
		typ := b.Labels[0]
		switch {
		case strings.HasSuffix(typ, "_iam_binding"), strings.HasSuffix(typ, "_iam_policy"):
			t.Errorf("%s is authoritative; use an _iam_member", blockName(b))
		case strings.HasSuffix(typ, "_iam_member"):
			role := customRole(attrPath(t, b, "role").Expr)
			if role == "" {
				role = m.str(t, b, "role")
			}
			g := grant{Type: typ, Role: role, Member: principal(t, b)}
			for _, on := range []string{"topic", "name", "service_account_id", "repository", "bucket", "secret_id", "project"} {
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

// customRole is "custom:NAME" when e is google_project_iam_custom_role.NAME's name or id, else "".
func customRole(e hclsyntax.Expression) string {
	for _, r := range refs(e) {
		if rest, ok := strings.CutPrefix(r, "google_project_iam_custom_role."); ok {
			return "custom:" + strings.Split(rest, ".")[0]
		}
	}
	return ""
}

// principal names the member of a grant by the resource or local it comes from.
func principal(t *testing.T, b *hclsyntax.Block) string {
	t.Helper()
	for _, r := range refs(attrPath(t, b, "member").Expr) {
		switch {
		case strings.HasPrefix(r, "google_service_account."):
			return strings.Join(strings.Split(r, ".")[:2], ".")
		case strings.HasPrefix(r, "local."):
			return r
		}
	}
	t.Fatalf("%s: member %s refers to neither a service account of this module nor a service agent", blockName(b), attrPath(t, b, "member").Expr.Range())
	return ""
}

// target names what a grant is on: the first resource or iteration it refers to, or var.project_id.
func target(e hclsyntax.Expression) string {
	rs := refs(e)
	for _, r := range rs {
		if strings.HasPrefix(r, "google_") || strings.HasPrefix(r, "each.") {
			parts := strings.Split(r, ".")
			return strings.Join(parts[:min(2, len(parts))], ".")
		}
	}
	if len(rs) > 0 {
		return rs[0]
	}
	return "literal"
}

// TestLeastPrivilege pins every grant this module makes. A new grant must be added here, with
// the reason it is needed.
func TestLeastPrivilege(t *testing.T) {
	m := load(t)
	got := grants(t, m)
	want := []grant{
		// Runtime: get and update each managed service and read its revisions (custom role), nothing
		// project-wide in Cloud Run but reading the operations its own updates return.
		{"google_cloud_run_v2_service_iam_member", "custom:service_updater", "google_service_account.runtime", "each.value"},
		{"google_project_iam_member", "custom:operation_reader", "google_service_account.runtime", "var.project_id"},
		// Runtime: act as the managed services' own runtime accounts (UpdateService needs actAs).
		{"google_service_account_iam_member", "custom:act_as", "google_service_account.runtime", "each.value"},
		// Runtime: the ledger, on runmedic's Firestore database only (an IAM condition).
		{"google_project_iam_member", "roles/datastore.user", "google_service_account.runtime", "var.project_id"},
		// Runtime: memory time series; metrics have no narrower scope than the project.
		{"google_project_iam_member", "roles/monitoring.viewer", "google_service_account.runtime", "var.project_id"},
		// Runtime: Cloud Run's OOM-kill log entries; log entries are read per project.
		{"google_project_iam_member", "roles/logging.viewer", "google_service_account.runtime", "var.project_id"},
		// Runtime: audit events and escalations, on those two topics only.
		{"google_pubsub_topic_iam_member", "roles/pubsub.publisher", "google_service_account.runtime", "google_pubsub_topic.audit"},
		{"google_pubsub_topic_iam_member", "roles/pubsub.publisher", "google_service_account.runtime", "google_pubsub_topic.notify"},
		// Monitoring's notification agent publishes incidents to the alert topic.
		{"google_pubsub_topic_iam_member", "roles/pubsub.publisher", "local.monitoring_notification_agent", "google_pubsub_topic.alert"},
		// Pub/Sub forwards dead letters; mints the trigger's push tokens.
		{"google_pubsub_topic_iam_member", "roles/pubsub.publisher", "local.pubsub_agent", "google_pubsub_topic.dead_letter"},
		{"google_service_account_iam_member", "roles/iam.serviceAccountTokenCreator", "local.pubsub_agent", "google_service_account.trigger"},
		// Runtime: read the recipients' credentials, on each named secret only.
		{"google_secret_manager_secret_iam_member", "roles/secretmanager.secretAccessor", "google_service_account.runtime", "each.value"},
		// Trigger: invoke the function's own service.
		{"google_cloud_run_v2_service_iam_member", "roles/run.invoker", "google_service_account.trigger", "google_cloudfunctions2_function.runmedic"},
		// Build: logs, its repository, its source bucket.
		{"google_project_iam_member", "roles/logging.logWriter", "google_service_account.build", "var.project_id"},
		{"google_artifact_registry_repository_iam_member", "roles/artifactregistry.writer", "google_service_account.build", "google_artifact_registry_repository.function"},
		{"google_storage_bucket_iam_member", "roles/storage.objectViewer", "google_service_account.build", "google_storage_bucket.source"},
	}
	order := func(a, b grant) int {
		return strings.Compare(a.Type+a.Role+a.Member+a.On, b.Type+b.Role+b.Member+b.On)
	}
	slices.SortFunc(got, order)
	slices.SortFunc(want, order)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IAM grants differ (-want +got):\n%s", diff)
	}

	// Secrets are granted one by one, from the list the deployment names.
	if acc := m.resource(t, "google_secret_manager_secret_iam_member", "runtime_secret_accessor"); !refersTo(t, acc, "for_each", "var.notification_secrets") {
		t.Error("secretAccessor is not granted per named secret (for_each = toset(var.notification_secrets))")
	}

	// The per-service grants iterate over the managed services and their runtime accounts.
	dev := m.resource(t, "google_cloud_run_v2_service_iam_member", "runtime_service_updater")
	if !refersTo(t, dev, "for_each", "local.managed") {
		t.Error("the service updater role is not granted per managed service (for_each = local.managed)")
	}
	user := m.resource(t, "google_service_account_iam_member", "runtime_acts_as_managed")
	if !refersTo(t, user, "for_each", "local.managed_runtime_sas") {
		t.Error("actAs is not granted per managed runtime account")
	}
}

func TestFunction(t *testing.T) {
	m := load(t)
	f := m.resource(t, "google_cloudfunctions2_function", "runmedic")

	if got := m.value(t, f, "service_config.max_instance_count", nil); !got.RawEquals(cty.NumberIntVal(1)) {
		t.Errorf("max_instance_count = %#v, want 1 (a single writer)", got)
	}
	if got := m.str(t, f, "event_trigger.retry_policy"); got != "RETRY_POLICY_RETRY" {
		t.Errorf("retry_policy = %q, want RETRY_POLICY_RETRY (transient errors are redelivered)", got)
	}
	if got := m.str(t, f, "event_trigger.event_type"); got != "google.cloud.pubsub.topic.v1.messagePublished" {
		t.Errorf("event_type = %q", got)
	}
	if !refersTo(t, f, "event_trigger.pubsub_topic", "google_pubsub_topic.alert") {
		t.Error("the trigger is not on the alert topic")
	}
	if !refersTo(t, f, "event_trigger.service_account_email", "google_service_account.trigger") {
		t.Error("the trigger does not run as the trigger account")
	}
	if got := m.str(t, f, "build_config.entry_point"); got != "Remediate" {
		t.Errorf("entry_point = %q, want Remediate", got)
	}
	if got, want := m.str(t, f, "build_config.runtime"), goRuntime(t); got != want {
		t.Errorf("runtime = %q, want %q (the go directive of go.mod)", got, want)
	}
	if !refersTo(t, f, "service_config.service_account_email", "google_service_account.runtime") {
		t.Error("the function does not run as the runtime account")
	}
	if got := m.str(t, f, "service_config.ingress_settings"); got != "ALLOW_INTERNAL_ONLY" {
		t.Errorf("ingress_settings = %q, want ALLOW_INTERNAL_ONLY", got)
	}
	timeout := m.value(t, f, "service_config.timeout_seconds", nil)
	if lo, hi := cty.NumberIntVal(300), cty.NumberIntVal(540); timeout.LessThan(lo).True() || timeout.GreaterThan(hi).True() {
		t.Errorf("timeout_seconds = %#v, want 300..540: long enough for an UpdateService wait", timeout)
	}

	env := m.value(t, f, "service_config.environment_variables", nil)
	if !env.Type().IsObjectType() {
		t.Fatalf("environment_variables = %#v, want an object", env)
	}
	var keys []string
	for k := range env.Type().AttributeTypes() {
		keys = append(keys, k)
	}
	want := []string{"GOMEMLIMIT", "GOOGLE_CLOUD_PROJECT", "RUNMEDIC_AUDIT_TOPIC", "RUNMEDIC_FIRESTORE_DATABASE", "RUNMEDIC_NOTIFY_TOPIC"}
	slices.Sort(keys)
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("environment variable names with the default variables (-want +got):\n%s", diff)
	}
	envSrc := m.all("locals")
	found := false
	for _, b := range envSrc {
		if a := attr(b, "function_env"); a != nil {
			found = true
			for _, topic := range []string{"google_pubsub_topic.audit", "google_pubsub_topic.notify"} {
				if !strings.Contains(strings.Join(refs(a.Expr), " "), topic+".id") {
					t.Errorf("function_env does not pass %s.id (the full topic name)", topic)
				}
			}
		}
	}
	if !found {
		t.Error("no local.function_env")
	}
}

// goRuntime is the runtime ID matching go.mod's go directive: go 1.26.x -> go126.
func goRuntime(t *testing.T) string {
	t.Helper()
	mod := readFile(t, filepath.Join("..", "..", "go.mod"))
	sm := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(mod)
	if sm == nil {
		t.Fatal("go.mod has no go directive")
	}
	return "go" + sm[1] + sm[2]
}

// TestDeadLetter: events that keep failing end on a dead-letter topic that keeps them.
func TestDeadLetter(t *testing.T) {
	m := load(t)
	m.resource(t, "google_pubsub_topic", "dead_letter")
	sub := m.resource(t, "google_pubsub_subscription", "dead_letter")
	if !refersTo(t, sub, "topic", "google_pubsub_topic.dead_letter") {
		t.Error("the dead-letter subscription is not on the dead-letter topic")
	}
	if got := m.str(t, sub, "message_retention_duration"); got != "604800s" {
		t.Errorf("dead letters kept %s, want 604800s (seven days)", got)
	}

	dl := m.resource(t, "terraform_data", "trigger_dead_letter")
	if !refersTo(t, dl, "triggers_replace", "google_cloudfunctions2_function.runmedic.event_trigger.trigger") {
		t.Error("the dead-letter policy is not re-attached when the trigger changes")
	}
	prov := nested(dl, "provisioner")
	if len(prov) != 1 {
		t.Fatalf("%d provisioners, want 1", len(prov))
	}
	cmdText := m.str(t, prov[0], "command")
	for _, w := range []string{`--dead-letter-topic="$DEAD_LETTER"`, `--max-delivery-attempts="$MAX_ATTEMPTS"`, "set -euo pipefail", "roles/pubsub.subscriber"} {
		if !strings.Contains(cmdText, w) {
			t.Errorf("dead-letter command lacks %q:\n%s", w, cmdText)
		}
	}
	if !refersTo(t, prov[0], "environment", "google_pubsub_topic.dead_letter") {
		t.Error("DEAD_LETTER does not come from the dead-letter topic")
	}
	attempts := m.vars["max_delivery_attempts"]
	if attempts.LessThan(cty.NumberIntVal(5)).True() || attempts.GreaterThan(cty.NumberIntVal(100)).True() {
		t.Errorf("max_delivery_attempts default = %#v, want 5..100 (Pub/Sub limits)", attempts)
	}
}

func TestAlertPolicies(t *testing.T) {
	m := load(t)
	if got := m.vars["memory_threshold_remediation"]; !got.RawEquals(cty.NumberFloatVal(runbookAlert)) {
		t.Errorf("memory_threshold_remediation default = %#v, want the runbook's %v", got, runbookAlert)
	}
	if got := m.vars["memory_threshold_critical"]; !got.RawEquals(cty.NumberFloatVal(runbookCritical)) {
		t.Errorf("memory_threshold_critical default = %#v, want the runbook's %v", got, runbookCritical)
	}
	if got := m.vars["alert_duration"]; !got.RawEquals(cty.StringVal("300s")) {
		t.Errorf("alert_duration default = %#v, want 300s (5 minutes)", got)
	}
	if vb := verifyBelow(t); vb >= runbookAlert {
		t.Errorf("config verify_below %v >= alert threshold %v: a service could verify while the alert fires", vb, runbookAlert)
	}

	checkAlertsCall(t, m, "./modules/memory-alerts", "local.managed_service_names")
}

// verifyBelow reads defaults.verify_below from the bundled config.
func verifyBelow(t *testing.T) float64 {
	t.Helper()
	var cfg struct {
		Defaults struct {
			VerifyBelow float64 `json:"verify_below"`
		} `json:"defaults"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join("..", "..", "policies", "data", "config.yaml"))), &cfg); err != nil {
		t.Fatalf("policies/data/config.yaml: %v", err)
	}
	if cfg.Defaults.VerifyBelow <= 0 {
		t.Fatal("policies/data/config.yaml has no defaults.verify_below")
	}
	return cfg.Defaults.VerifyBelow
}

func TestNotificationPath(t *testing.T) {
	m := load(t)
	ch := m.resource(t, "google_monitoring_notification_channel", "alert_topic")
	if got := m.str(t, ch, "type"); got != "pubsub" {
		t.Errorf("channel type = %q, want pubsub", got)
	}
	if !refersTo(t, ch, "labels", "google_pubsub_topic.alert") {
		t.Error("channel labels.topic is not the alert topic")
	}
	var agent string
	for _, b := range m.all("locals") {
		if a := attr(b, "monitoring_notification_agent"); a != nil {
			r := a.Expr.Range()
			agent = string(r.SliceBytes(m.src[r.Filename]))
		}
	}
	if want := `"service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"`; agent != want {
		t.Errorf("local.monitoring_notification_agent = %s, want %s", agent, want)
	}
}

func TestVerifyTick(t *testing.T) {
	m := load(t)
	job := m.resource(t, "google_cloud_scheduler_job", "verify_tick")
	if !refersTo(t, job, "pubsub_target.topic_name", "google_pubsub_topic.alert") {
		t.Error("verify ticks are not published to the alert topic")
	}
	attrs := m.value(t, job, "pubsub_target.attributes", nil)
	if want := cty.ObjectVal(map[string]cty.Value{"runmedic-kind": cty.StringVal("verify-tick")}); !attrs.RawEquals(want) {
		t.Errorf("tick attributes = %#v, want runmedic-kind = verify-tick", attrs)
	}
	if got := m.vars["verify_schedule"]; !got.RawEquals(cty.StringVal("*/5 * * * *")) {
		t.Errorf("verify_schedule default = %#v, want every 5 minutes", got)
	}
}

// TestVariablesAndOutputs: every variable and output says what it is; exactly the three
// deployment-specific variables have no default.
func TestVariablesAndOutputs(t *testing.T) {
	m := load(t)
	var required []string
	for _, typ := range []string{"variable", "output"} {
		for _, b := range m.all(typ) {
			a := attr(b, "description")
			if a == nil {
				t.Errorf("%s has no description", blockName(b))
				continue
			}
			if d := m.str(t, b, "description"); len(strings.TrimSpace(d)) < 10 {
				t.Errorf("%s description %q says nothing", blockName(b), d)
			}
			if typ == "variable" && attr(b, "default") == nil {
				required = append(required, b.Labels[0])
			}
		}
	}
	slices.Sort(required)
	if diff := cmp.Diff([]string{"managed_services", "project_id", "region"}, required); diff != "" {
		t.Errorf("variables without a default (-want +got):\n%s", diff)
	}
}
