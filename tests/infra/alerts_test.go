package infra_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// loadAlerts parses infra/modules/memory-alerts, the memory alert policies of one project.
func loadAlerts(t *testing.T) *module {
	t.Helper()
	return loadDir(t, filepath.Join(infraDir(t), "modules", "memory-alerts"))
}

// TestMemoryAlerts checks the module's alert policies, given the central project's defaults, are
// the runbook's, grouped so the function can name the service, and sent to the channel they are
// given.
func TestMemoryAlerts(t *testing.T) {
	m, root := loadAlerts(t), load(t)
	for _, name := range []string{"memory_threshold_remediation", "memory_threshold_critical", "alert_duration", "renotify_interval", "auto_close"} {
		m.vars[name] = root.vars[name]
	}
	m.evalLocals()
	p := m.resource(t, "google_monitoring_alert_policy", "memory")
	if !refersTo(t, p, "for_each", "local.memory_alerts") {
		t.Fatal("the alert policy does not iterate over local.memory_alerts")
	}
	if !refersTo(t, p, "project", "var.project_id") {
		t.Error("the alert policies are not in var.project_id")
	}
	alerts := m.locals["memory_alerts"]
	if !alerts.IsWhollyKnown() {
		t.Fatalf("local.memory_alerts = %#v, want known values", alerts)
	}
	type alert struct {
		Threshold float64
		Severity  string
	}
	got := map[string]alert{}
	for k, v := range alerts.AsValueMap() {
		each := map[string]cty.Value{"key": cty.StringVal(k), "value": v}
		th, _ := m.value(t, p, "conditions.condition_threshold.threshold_value", each).AsBigFloat().Float64()
		got[k] = alert{Threshold: th, Severity: m.value(t, p, "severity", each).AsString()}

		labels := m.value(t, p, "user_labels", each)
		if l := labels.GetAttr("remediation"); !l.RawEquals(cty.StringVal("auto")) {
			t.Errorf("%s: user_labels.remediation = %#v, want auto", k, l)
		}
	}
	want := map[string]alert{
		"remediation": {Threshold: runbookAlert, Severity: "WARNING"},
		"critical":    {Threshold: runbookCritical, Severity: "CRITICAL"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}

	c := "conditions.condition_threshold."
	for path, want := range map[string]string{
		c + "comparison":                        "COMPARISON_GT",
		c + "aggregations.alignment_period":     "60s",
		c + "aggregations.per_series_aligner":   "ALIGN_PERCENTILE_99",
		c + "aggregations.cross_series_reducer": "REDUCE_MAX",
		c + "filter":                            `resource.type = "cloud_run_revision" AND metric.type = "run.googleapis.com/container/memory/utilizations"`,
	} {
		if got := m.str(t, p, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	groupBy := m.value(t, p, c+"aggregations.group_by_fields", nil)
	var fields []string
	for _, v := range groupBy.AsValueSlice() {
		fields = append(fields, v.AsString())
	}
	if diff := cmp.Diff([]string{"resource.label.project_id", "resource.label.service_name", "resource.label.location"}, fields); diff != "" {
		t.Errorf("group_by_fields keep the labels the function needs (-want +got):\n%s", diff)
	}
	if !refersTo(t, p, c+"duration", "var.alert_duration") {
		t.Error("duration is not var.alert_duration")
	}

	prompts := m.value(t, p, "alert_strategy.notification_prompts", nil)
	if !prompts.RawEquals(cty.TupleVal([]cty.Value{cty.StringVal("OPENED"), cty.StringVal("CLOSED")})) {
		t.Errorf("notification_prompts = %#v, want OPENED and CLOSED", prompts)
	}
	for _, path := range []string{"alert_strategy.notification_channel_strategy.renotify_interval", "alert_strategy.auto_close"} {
		v := m.value(t, p, path, nil)
		if !v.IsKnown() || v.IsNull() || v.AsString() == "" {
			t.Errorf("%s = %#v, want a duration", path, v)
		}
	}
	if !refersTo(t, p, "notification_channels", "var.notification_channel") ||
		!refersTo(t, p, "alert_strategy.notification_channel_strategy.notification_channel_names", "var.notification_channel") {
		t.Error("the alert policy does not notify var.notification_channel")
	}

	// Narrowed to named services, the filter says so.
	m.vars["services"] = cty.ListVal([]cty.Value{cty.StringVal("api"), cty.StringVal("web")})
	m.evalLocals()
	if got, want := m.str(t, p, c+"filter"), `resource.labels.service_name = one_of("api", "web")`; !strings.HasSuffix(got, " AND "+want) {
		t.Errorf("filter with services = %q, want it to end with %q", got, want)
	}

	for _, typ := range []string{"variable", "output"} {
		for _, b := range m.all(typ) {
			if attr(b, "description") == nil {
				t.Errorf("%s has no description", blockName(b))
			}
		}
	}
}

// checkAlertsCall checks that caller (infra/ or the managed-project module) creates its alert
// policies with the memory-alerts module: from source, in its project, notifying its channel,
// with its own thresholds, durations and services, every required input set and no unknown one,
// and with a moved block so existing policies are kept.
func checkAlertsCall(t *testing.T, caller *module, source, services string) {
	t.Helper()
	var call *hclsyntax.Block
	for _, b := range caller.all("module") {
		if b.Labels[0] == "memory_alerts" {
			call = b
		}
	}
	if call == nil {
		t.Fatalf("%s has no module \"memory_alerts\"", caller.dir)
	}
	if got := caller.str(t, call, "source"); got != source {
		t.Errorf("memory_alerts source = %q, want %q", got, source)
	}
	for name, want := range map[string]string{
		"project_id":                   "var.project_id",
		"notification_channel":         "google_monitoring_notification_channel.alert_topic",
		"services":                     services,
		"memory_threshold_remediation": "var.memory_threshold_remediation",
		"memory_threshold_critical":    "var.memory_threshold_critical",
		"alert_duration":               "var.alert_duration",
		"renotify_interval":            "var.renotify_interval",
		"auto_close":                   "var.auto_close",
	} {
		if !refersTo(t, call, name, want) {
			t.Errorf("memory_alerts %s does not come from %s", name, want)
		}
	}
	vars := map[string]bool{}
	for _, v := range loadAlerts(t).all("variable") {
		vars[v.Labels[0]] = attr(v, "default") != nil
	}
	for name := range call.Body.Attributes {
		if _, ok := vars[name]; !ok && name != "source" {
			t.Errorf("the call sets %s, which memory-alerts does not declare", name)
		}
	}
	for name, hasDefault := range vars {
		if _, set := call.Body.Attributes[name]; !hasDefault && !set {
			t.Errorf("the call does not set memory-alerts' required %s", name)
		}
	}
	moved := false
	for _, b := range caller.all("moved") {
		from, to := refs(attr(b, "from").Expr), refs(attr(b, "to").Expr)
		moved = moved || (slices.Equal(from, []string{"google_monitoring_alert_policy.memory"}) &&
			slices.Equal(to, []string{"module.memory_alerts.google_monitoring_alert_policy.memory"}))
	}
	if !moved {
		t.Error("no moved block takes google_monitoring_alert_policy.memory into module.memory_alerts")
	}
}
