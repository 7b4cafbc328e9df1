package signals

import (
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// actionBudgetWindow is the window of max_actions_per_day.
const actionBudgetWindow = 24 * time.Hour

// actions returns how many changes runmedic made in the 24 hours before now, and the whole
// minutes since the newest one (-1 when there is none). An entry stamped after now (clock skew
// between writers) counts as made now: the budget and the cooldown err on the side of caution.
func actions(history []snapshot.Action, now time.Time) (last24h, sinceLast int) {
	from := now.Add(-actionBudgetWindow)
	var newest time.Time
	found := false
	for _, h := range history {
		if !h.Changed() {
			continue
		}
		if h.At.After(from) {
			last24h++
		}
		if !found || h.At.After(newest) {
			newest, found = h.At, true
		}
	}
	if !found {
		return last24h, -1
	}
	return last24h, max(0, minutes(now.Sub(newest)))
}
