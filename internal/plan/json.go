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
	p = normalized(p)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("encode plan for %s: %w", p.Target, err)
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
