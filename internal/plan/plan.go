// Package plan turns a validated decision and a snapshot into a Plan: the reviewable diff between
// the live service and the one the policy wants. A plan is a value; apply executes exactly its
// changes and nothing else.
package plan

import (
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// FormatVersion is the version of the JSON plan format.
const FormatVersion = "1"

// Plan is what runmedic would do to one service for one incident.
type Plan struct {
	FormatVersion string            `json:"format_version"`
	Incident      string            `json:"incident"`
	Target        string            `json:"target"`
	Decision      decision.Decision `json:"decision"`
	Changes       []snapshot.Change `json:"changes"`
	Notifications []Notification    `json:"notifications"`
	Verification  *Verification     `json:"verification,omitempty"` // what follows an applied change
	Warnings      []string          `json:"warnings,omitempty"`     // for the people reviewing the plan
	Guard         Verdict           `json:"guard"`
	Applyable     bool              `json:"applyable"` // guard allowed, mode enforce, changes present
	Etag          string            `json:"etag"`      // the service etag the plan was made against
	Links         *Links            `json:"links,omitempty"`
	// Memory is the memory graph over the snapshot's window, drawn by the text view only.
	Memory *MemoryWindow `json:"-"`
}

// Verification is the runbook's check after a change: memory p99 must stay below Below for
// After, and the 5xx rate must not rise; a failed check escalates (or reverts, when configured).
type Verification struct {
	After  string  `json:"after"` // "10m"
	Below  float64 `json:"below"` // 0.80
	Revert bool    `json:"revert_on_failure"`
}

// TerraformLabel marks services that Terraform created: the next `terraform apply` reverts
// runmedic's changes unless the user's configuration ignores those fields.
const TerraformLabel = "goog-terraform-provisioned"

// Notification is an escalation the plan schedules, After the incident's start.
type Notification struct {
	To     string `json:"to"`
	After  string `json:"after"` // "5m"
	Reason string `json:"reason"`
}

// Verdict is the guard's answer on a plan.
type Verdict struct {
	Allowed  bool      `json:"allowed"`
	Mode     string    `json:"mode"`
	Refusals []Refusal `json:"refusals"`
}

// Refusal is one guard rule that blocks apply.
type Refusal struct {
	Rule    string `json:"rule"` // allowlist, target, mode, ceiling, cooldown, budget, policy, done, freeze, snooze
	Message string `json:"message"`
}
