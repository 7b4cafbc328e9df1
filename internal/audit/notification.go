package audit

import (
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/plan"
)

// Notification is one escalation message, published on the notification topic for whatever
// delivers it (mail, chat, paging). Routing needs no body decoding: the message carries the
// attributes "severity" and "notify" (see Attributes). Fields (JSON names):
//
//   - id: ID(target, incident, "notify:"+to+"@"+after, Escalated): one message per escalation
//     step, however often the incident is redelivered.
//   - time: when it was sent (RFC 3339, UTC).
//   - incident, target: as in Event.
//   - severity: the incident's severity as Cloud Monitoring sent it ("Warning", "Critical", ...).
//   - to: who is notified, an address or a role from the escalation table.
//   - after: the escalation step, measured from incident start ("5m"); "pin@REVISION" for the
//     notice that a traffic pin holds a newer revision back.
//   - action, diagnosis: what runmedic decided for the service.
//   - reason, evidence: the policy's explanation, for people.
//   - url: the incident in the Cloud Console, when the alert had one.
//   - console_url: the service's metrics page in the Cloud Console.
//   - plan: what runmedic decided and did (or would do), as the JSON plan.
//   - next_steps: what a person should do next: the runbook's code-level fix for the diagnosis.
type Notification struct {
	ID         string             `json:"id"`
	Time       time.Time          `json:"time"`
	Incident   string             `json:"incident"`
	Target     string             `json:"target"`
	Severity   string             `json:"severity"`
	To         string             `json:"to"`
	After      string             `json:"after"`
	Action     decision.Action    `json:"action"`
	Diagnosis  decision.Diagnosis `json:"diagnosis"`
	Reason     string             `json:"reason"`
	Evidence   []string           `json:"evidence"`
	URL        string             `json:"url,omitempty"`
	ConsoleURL string             `json:"console_url,omitempty"`
	Plan       *plan.Plan         `json:"plan,omitempty"`
	NextSteps  []string           `json:"next_steps,omitempty"`
}

// WithID returns n with its ID computed from its Target, Incident, To and After.
func (n Notification) WithID() Notification {
	n.ID = ID(n.Target, n.Incident, "notify:"+n.To+"@"+n.After, Escalated)
	return n
}

// Attributes are the routing attributes: "severity" (lowercased) and "notify" (the recipient),
// plus "incident" and "id" for deduplication.
func (n Notification) Attributes() map[string]string {
	return map[string]string{
		"id":       n.ID,
		"incident": n.Incident,
		"severity": strings.ToLower(n.Severity),
		"notify":   n.To,
	}
}
