package plan

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// RenderJSON writes p in the public JSON plan format (format_version "1"), indented by two
// spaces. Lists are never null: a plan with no changes has "changes": [], and so on for
// notifications, refusals and evidence, so consumers need no null checks. HTML characters are not
// escaped: reasons and evidence stay readable ("->", "<", "&").
func RenderJSON(w io.Writer, p Plan) error {
	return encodeJSON(w, p.Target, normalized(p))
}

// RenderJSONExplained writes p as RenderJSON does with one more key, "explain", holding
// explanation (the signals and the rules that held, for `plan --explain -o json`).
func RenderJSONExplained(w io.Writer, p Plan, explanation any) error {
	return encodeJSON(w, p.Target, struct {
		Plan
		Explain any `json:"explain"`
	}{normalized(p), explanation})
}

func encodeJSON(w io.Writer, target string, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode plan for %s: %w", target, err)
	}
	return nil
}

// normalized returns p with every nil list made empty and FormatVersion set, sharing nothing
// mutable with p.
func normalized(p Plan) Plan {
	if p.FormatVersion == "" {
		p.FormatVersion = FormatVersion
	}
	p.Changes = append([]snapshot.Change{}, p.Changes...)
	p.Notifications = append([]Notification{}, p.Notifications...)
	p.Guard.Refusals = append([]Refusal{}, p.Guard.Refusals...)
	p.Decision.Evidence = append([]string{}, p.Decision.Evidence...)
	return p
}
