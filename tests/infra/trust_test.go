package infra_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/runmedic/runmedic/internal/ledger"
)

// TestCustomRoles pins the permissions of runmedic's custom roles: exactly the Cloud Run calls
// the adapter makes (GetService, UpdateService, GetRevision, ListRevisions, and GetOperation to
// wait on an update), and actAs; never a create or delete.
func TestCustomRoles(t *testing.T) {
	m := load(t)
	want := map[string][]string{
		"service_updater":  {"run.revisions.get", "run.revisions.list", "run.services.get", "run.services.update"},
		"operation_reader": {"run.operations.get"},
		"act_as":           {"iam.serviceAccounts.actAs"},
	}
	got := m.resources("google_project_iam_custom_role")
	if len(got) != len(want) {
		t.Errorf("%d custom roles, want %d", len(got), len(want))
	}
	for name, perms := range want {
		b, ok := got[name]
		if !ok {
			t.Errorf("no google_project_iam_custom_role.%s", name)
			continue
		}
		v := m.value(t, b, "permissions", nil)
		var have []string
		for it := v.ElementIterator(); it.Next(); {
			_, p := it.Element()
			have = append(have, p.AsString())
		}
		slices.Sort(have)
		if !slices.Equal(have, perms) {
			t.Errorf("%s permissions = %v, want %v", name, have, perms)
		}
		for _, p := range have {
			if strings.HasSuffix(p, ".delete") || strings.HasSuffix(p, ".create") || strings.HasSuffix(p, ".setIamPolicy") {
				t.Errorf("%s grants %s", name, p)
			}
		}
	}
}

// TestLedgerDatabase: a named Native-mode database with TTL on expire_at, and the runtime's
// datastore.user conditioned on that database's resource name.
func TestLedgerDatabase(t *testing.T) {
	m := load(t)
	db := m.resource(t, "google_firestore_database", "ledger")
	if got := m.str(t, db, "type"); got != "FIRESTORE_NATIVE" {
		t.Errorf("database type = %q, want FIRESTORE_NATIVE", got)
	}
	if got := m.vars["firestore_database"]; !got.RawEquals(cty.StringVal("runmedic")) {
		t.Errorf("firestore_database default = %#v, want \"runmedic\"", got)
	}
	if !refersTo(t, db, "name", "var.firestore_database") {
		t.Error("the database is not named by var.firestore_database")
	}
	var collections []string
	for _, v := range m.vars["ledger_collections"].AsValueSlice() {
		collections = append(collections, v.AsString())
	}
	if !slices.Equal(collections, ledger.Collections) {
		t.Errorf("ledger_collections default = %q, want the ledger's collections %q", collections, ledger.Collections)
	}
	ttl := m.resource(t, "google_firestore_field", "expire_at")
	if got := m.str(t, ttl, "field"); got != "expire_at" {
		t.Errorf("TTL field = %q, want expire_at", got)
	}
	if len(nested(ttl, "ttl_config")) != 1 {
		t.Error("google_firestore_field.expire_at has no ttl_config block")
	}
	if !refersTo(t, ttl, "database", "google_firestore_database.ledger") {
		t.Error("the TTL field is not on the ledger database")
	}

	user := m.resource(t, "google_project_iam_member", "runtime_ledger_user")
	conds := nested(user, "condition")
	if len(conds) != 1 {
		t.Fatalf("runtime_ledger_user has %d condition blocks, want 1", len(conds))
	}
	expr := attrPath(t, conds[0], "expression")
	src := string(expr.Expr.Range().SliceBytes(m.src[expr.Expr.Range().Filename]))
	if !strings.Contains(src, `resource.name == \"projects/${var.project_id}/databases/${google_firestore_database.ledger.name}\"`) {
		t.Errorf("condition expression %s does not limit datastore.user to the ledger database", src)
	}
	if !strings.Contains(src, `databases/${google_firestore_database.ledger.name}/\"`) {
		t.Errorf("condition expression %s does not cover the database's documents (a prefix ending in /)", src)
	}
}

// TestFunctionHoldsMessagesInFlight: with the defaults, max_instance_request_concurrency
// messages at Pub/Sub's maximum fit under GOMEMLIMIT, which sits below the instance's memory;
// the function's precondition says so, and refuses a concurrency the memory cannot hold.
func TestFunctionHoldsMessagesInFlight(t *testing.T) {
	m := load(t)
	f := m.resource(t, "google_cloudfunctions2_function", "runmedic")
	if !refersTo(t, f, "service_config.max_instance_request_concurrency", "var.function_concurrency") {
		t.Error("max_instance_request_concurrency is not var.function_concurrency")
	}
	if !refersTo(t, f, "service_config.available_memory", "var.function_memory_mib") {
		t.Error("available_memory is not var.function_memory_mib")
	}
	var pre []*hclsyntax.Block
	for _, lc := range nested(f, "lifecycle") {
		pre = append(pre, nested(lc, "precondition")...)
	}
	if len(pre) != 1 {
		t.Fatalf("the function has %d lifecycle preconditions, want 1 on its memory", len(pre))
	}
	holds := func() bool {
		v := m.value(t, pre[0], "condition", nil)
		if !v.IsKnown() || v.Type() != cty.Bool {
			t.Fatalf("precondition = %#v, want a known bool", v)
		}
		return v.True()
	}
	if !holds() {
		t.Errorf("with the defaults (memory %#v MiB, concurrency %#v) the precondition fails: in flight %#v MiB, GOMEMLIMIT %#v MiB",
			m.vars["function_memory_mib"], m.vars["function_concurrency"], m.locals["function_inflight_mib"], m.locals["gomemlimit_mib"])
	}
	if got := m.locals["gomemlimit_mib"]; !got.RawEquals(cty.NumberIntVal(409)) {
		t.Errorf("GOMEMLIMIT = %#v MiB, want 409 (80 %% of 512)", got)
	}
	m.vars["function_concurrency"] = cty.NumberIntVal(80)
	m.evalLocals()
	if holds() {
		t.Error("80 messages of 10 MB in flight on 512 MiB pass the precondition")
	}
}
