package signals

import (
	"math"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// oomFacts reads the OOM-kill evidence. Without readable logs (not read, or the read failed) every
// count stays nil: the policy sees the signals absent, never a reassuring zero.
func oomFacts(l *snapshot.Logs, now time.Time) OOM {
	if l == nil {
		return OOM{}
	}
	if !l.Available {
		return OOM{LogsError: l.Error}
	}
	total, used := 0, 0.0
	var last time.Time
	by := map[string]int{}
	for _, k := range l.OOMKills {
		if k.Count <= 0 {
			continue
		}
		total += k.Count
		by[k.Revision] += k.Count
		used = max(used, k.MaxUsedMiB)
		if k.Last.After(last) {
			last = k.Last
		}
	}
	o := OOM{LogsAvailable: true, OOMKills: &total}
	if total == 0 {
		return o
	}
	o.OOMKillsByRevision = by
	o.OOMMaxUsedMiB = &used
	since := max(0, minutes(now.Sub(last)))
	o.MinutesSinceOOMKill = &since
	return o
}

// oomHeadroom is how much room a raise leaves above the largest observed "used".
const oomHeadroom = 1.2

// fitMiB is the memory, in MiB, that holds the largest observed "used" with headroom; 0 without
// kills.
func (o OOM) fitMiB() int64 {
	if o.OOMMaxUsedMiB == nil {
		return 0
	}
	return int64(math.Ceil(*o.OOMMaxUsedMiB * oomHeadroom))
}
